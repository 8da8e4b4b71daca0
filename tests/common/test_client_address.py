"""The address the throttles count is not the client's to choose."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def signin_throttled(settings):
    rates = {**settings.ACCOUNTS_THROTTLE_RATES}
    for scope in rates:
        rates[scope] = "1000/minute"
    rates["signin_address"] = "2/minute"
    settings.ACCOUNTS_THROTTLE_RATES = rates


def attempt(client, forwarded_for: str):
    return client.post("/api/v1/auth/signin/", {"email": f"x{forwarded_for}@example.com", "password": "wrong-pass-123"},
                       format="json", HTTP_X_FORWARDED_FOR=forwarded_for)


def test_a_made_up_x_forwarded_for_does_not_escape_the_per_address_throttle(signin_throttled):
    client = APIClient()
    answers = [attempt(client, f"203.0.113.{n}").status_code for n in range(3)]
    assert answers[:2] == [401, 401]
    assert answers[2] == 429


def test_behind_one_proxy_each_forwarded_client_has_its_own_budget(signin_throttled, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = APIClient()
    answers = [attempt(client, f"203.0.113.{n}").status_code for n in range(3)]
    assert answers == [401, 401, 401]
