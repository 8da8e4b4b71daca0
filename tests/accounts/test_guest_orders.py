"""Guests order with an email and no account; once a customer verifies that email, those earlier
orders are in their order history."""

import pytest

from tests.accounts.conftest import bearer, emails_to, link_in, order_for

pytestmark = pytest.mark.django_db


def test_guest_orders_join_the_account_that_verifies_their_email(customer_token, call, anonymous):
    # Given two guest orders placed with Ada's email (in another case), and one with someone else's
    first = order_for(email="Ada@Example.com")
    second = order_for(email="ada@example.com")
    strangers = order_for(email="eve@example.com")
    # and Ada signed up: before she verifies her email, her history is empty
    client = bearer(customer_token("ada@example.com"))
    assert client.get("/api/v1/orders/").json()["results"] == []
    # When she follows the verification link
    response = call(anonymous, "post", "/api/v1/auth/email/verify/", link_in(emails_to("ada@example.com")[0]))
    # Then her guest orders are in her order history, and nobody else's
    assert response.json()["orders_attached"] == 2
    history = client.get("/api/v1/orders/").json()["results"]
    assert {order["number"] for order in history} == {first.number, second.number}
    assert client.get(f"/api/v1/orders/{first.pk}/").status_code == 200
    assert client.get(f"/api/v1/orders/{strangers.pk}/").status_code == 404


def test_an_unverified_sign_up_does_not_see_guest_orders_of_its_email(customer_token):
    guest = order_for(email="ada@example.com")
    client = bearer(customer_token("ada@example.com"))
    assert client.get(f"/api/v1/orders/{guest.pk}/").status_code == 404
    guest.refresh_from_db()
    assert guest.customer_id is None
