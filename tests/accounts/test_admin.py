"""Staff look at customers and their address books in the admin (Support role); nobody edits them
there."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from apps.accounts.models import Customer
from tests.accounts.conftest import bearer

pytestmark = pytest.mark.django_db


def browser_of(role: str) -> Client:
    user = get_user_model().objects.create_user(role.lower().replace(" ", "-"), "", "pw-staff-1", is_staff=True)
    user.groups.set([Group.objects.get(name=role)])
    client = Client()
    client.force_login(user)
    return client


def test_support_finds_a_customer_by_email_and_sees_the_address_book(customer_token, call):
    token = customer_token("ada@example.com")
    call(bearer(token), "post", "/api/v1/me/addresses/", {
        "name": "Ada Lovelace", "line1": "Heidestrasse 17", "city": "Berlin", "postal_code": "10557", "country": "DE"})
    support = browser_of("Support")
    listing = support.get("/admin/accounts/customer/", {"q": "ada@"})
    assert listing.status_code == 200 and "ada@example.com" in listing.content.decode()
    page = support.get(f"/admin/accounts/customer/{Customer.objects.get().pk}/change/").content.decode()
    assert "Heidestrasse 17" in page
    assert 'name="_save"' not in page  # read-only


def test_roles_without_the_customer_permissions_do_not_see_customers(customer_token):
    customer_token("ada@example.com")
    assert browser_of("Finance").get("/admin/accounts/customer/").status_code == 403
