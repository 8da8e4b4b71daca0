"""The profile (GET/PATCH /api/v1/me/) and account deletion: personal data removed, past orders
kept for accounting without the customer's email and phone."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from knox.models import AuthToken

from apps.accounts.models import Address, Customer
from apps.orders.models import Order
from tests.accounts.conftest import PASSWORD, bearer, order_for

pytestmark = pytest.mark.django_db

BERLIN = {"name": "Ada Lovelace", "line1": "Heidestrasse 17", "city": "Berlin", "postal_code": "10557",
          "country": "DE"}


def test_a_customer_changes_name_phone_and_marketing_consent(customer_token, call):
    client = bearer(customer_token("ada@example.com"))
    response = call(client, "patch", "/api/v1/me/", {"first_name": "Ada", "last_name": "Lovelace",
                                                     "phone": "+49 151 2345 6789", "marketing_consent": True})
    assert response.status_code == 200
    profile = client.get("/api/v1/me/").json()
    assert (profile["first_name"], profile["last_name"]) == ("Ada", "Lovelace")
    assert profile["phone"] == "+4915123456789"  # E.164
    assert profile["marketing_consent"] is True and profile["marketing_consent_changed_at"]
    # and a phone can be removed again
    assert call(client, "patch", "/api/v1/me/", {"phone": ""}).json()["phone"] == ""


def test_a_phone_that_is_no_valid_number_is_422(customer_token, call):
    client = bearer(customer_token("ada@example.com"))
    for phone in ("12345", "+1 555", "+49 000 0000000", "call me"):
        response = call(client, "patch", "/api/v1/me/", {"phone": phone})
        assert response.status_code == 422, phone
        assert response.json()["code"] == "phone_invalid"
        assert response.json()["errors"][0]["field"] == "phone"


def test_the_email_cannot_be_changed_through_the_profile(customer_token, call):
    client = bearer(customer_token("ada@example.com"))
    call(client, "patch", "/api/v1/me/", {"email": "mallory@example.com"})
    assert client.get("/api/v1/me/").json()["email"] == "ada@example.com"


def test_deleting_the_account_removes_personal_data_and_anonymises_past_orders(customer_token, call, sign_in):
    token = customer_token("ada@example.com")
    client = bearer(token)
    call(client, "patch", "/api/v1/me/", {"first_name": "Ada", "phone": "+4915123456789"})
    assert call(client, "post", "/api/v1/me/addresses/", BERLIN).status_code == 201
    user = get_user_model().objects.get(username="ada@example.com")
    order = order_for(email="ada@example.com", phone="+4915123456789", customer=user, status=Order.Status.SHIPPED,
                      address={**BERLIN, "company": "", "line2": "", "region": "", "phone": "+4915123456789"})
    other = order_for(email="bob@example.com", phone="+14155550123")
    # When the customer deletes their account with their password
    response = call(client, "post", "/api/v1/me/delete/", {"password": PASSWORD})
    assert response.status_code == 204
    # Then they can no longer sign in, and their token is gone
    assert client.get("/api/v1/me/").status_code == 401
    assert sign_in("ada@example.com").status_code == 401
    assert not AuthToken.objects.filter(user=user).exists()
    # and nothing personal is left on the account, its profile or address book
    user.refresh_from_db()
    assert (user.email, user.first_name, user.last_name, user.is_active) == ("", "", "", False)
    assert "ada" not in user.username and not user.has_usable_password()
    assert not Customer.objects.exists() and not Address.objects.exists()
    # while the order stays for accounting, without email, phone, names and street, with a note
    order.refresh_from_db()
    assert (order.email, order.phone, order.customer_id, order.total) == ("", "", user.pk, Decimal("19.99"))
    kept = {"city": "Berlin", "region": "", "postal_code": "10557", "country": "DE"}
    assert order.shipping_address == order.billing_address == kept
    assert order.timeline.filter(message__contains="deleted their account").exists()
    other.refresh_from_db()
    assert (other.email, other.phone) == ("bob@example.com", "+14155550123")


def test_deleting_needs_the_right_password(customer_token, call):
    client = bearer(customer_token("ada@example.com"))
    response = call(client, "post", "/api/v1/me/delete/", {"password": "not-the-password"})
    assert response.status_code == 422
    assert response.json()["code"] == "password_incorrect"
    assert client.get("/api/v1/me/").status_code == 200


def test_a_deleted_customers_email_can_sign_up_again(customer_token, call, sign_up, sign_in):
    call(bearer(customer_token("ada@example.com")), "post", "/api/v1/me/delete/", {"password": PASSWORD})
    assert sign_up("ada@example.com").status_code == 202
    assert sign_in("ada@example.com").status_code == 200


def test_deletion_waits_for_the_orders_still_to_be_shipped(customer_token, call):
    client = bearer(customer_token("ada@example.com"))
    user = get_user_model().objects.get(username="ada@example.com")
    order = order_for(email="ada@example.com", customer=user, status=Order.Status.CONFIRMED, address=BERLIN)
    response = call(client, "post", "/api/v1/me/delete/", {"password": PASSWORD})
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["open_orders"]) == ("orders_still_open", 1)
    assert client.get("/api/v1/me/").status_code == 200
    order.refresh_from_db()
    assert (order.email, order.shipping_address["name"]) == ("ada@example.com", "Ada Lovelace")
