import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters and cached pages must not leak from one test into the next.
    cache.clear()
    yield


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def customer(db):
    return get_user_model().objects.create_user("customer", "customer@example.com", "pw-customer-1")


@pytest.fixture
def other_customer(db):
    return get_user_model().objects.create_user("other", "other@example.com", "pw-other-1")


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("staff", "staff@example.com", "pw-staff-1", is_staff=True)


@pytest.fixture
def customer_client(customer):
    client = APIClient()
    client.force_authenticate(customer)
    return client


@pytest.fixture
def staff_client(staff):
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.fixture
def receiver():
    """A webhook receiver on loopback (tests.notifications.conftest.HttpReceiver)."""
    from tests.notifications.conftest import HttpReceiver

    server = HttpReceiver().start()
    yield server
    server.stop()
