import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
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
    """A staff member holding every role (apps.common.roles), not a superuser."""
    user = get_user_model().objects.create_user("staff", "staff@example.com", "pw-staff-1", is_staff=True)
    user.groups.set(Group.objects.all())
    return user


@pytest.fixture
def staff_with(db):
    """staff_with(*codenames): a new staff user holding exactly these permissions ("app_label.codename")."""
    made = []

    def make(*codenames: str):
        name = f"clerk{len(made)}"
        user = get_user_model().objects.create_user(name, f"{name}@example.com", f"pw-{name}-1", is_staff=True)
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        made.append(user)
        return user

    return make


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


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
