"""Cursor-paginated lists: a cursor the list did not hand out is the client's mistake (400)."""

import base64

import pytest

pytestmark = pytest.mark.django_db(databases="__all__")


def get(clients, who, path, cursor):
    return clients[who].get(path, {"cursor": cursor})


@pytest.fixture
def clients(api_client, customer_client, staff_client):
    return {"customer": customer_client, "anonymous": api_client, "staff": staff_client}


def assert_invalid_cursor(response):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("who, path", [
    ("customer", "/api/v1/orders/"),
    ("anonymous", "/api/v1/products/"),
    ("staff", "/api/v1/notifications/webhook-endpoints/"),
    ("staff", "/api/v1/payments/"),
])
def test_a_cursor_that_does_not_decode_is_a_400_problem(clients, who, path):
    assert_invalid_cursor(get(clients, who, path, "garbage"))


@pytest.mark.parametrize("who, path", [
    ("customer", "/api/v1/orders/"),
    ("staff", "/api/v1/notifications/webhook-endpoints/"),
])
def test_a_forged_cursor_whose_position_is_not_a_time_is_a_400_problem(clients, who, path):
    forged = base64.b64encode(b"o=0&p=not-a-time").decode()  # these lists page by creation time
    assert_invalid_cursor(get(clients, who, path, forged))
