"""A guest fills a cart, then signs in (a real sign-up and sign-in over HTTP, a Bearer token)
and brings the cart along: the storefront calls POST /carts/{id}/merge/ with the cart's token."""

import pytest
from rest_framework.test import APIClient

from tests.checkout.conftest import cart_create, cart_url, token_header

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])
PASSWORD = "correct horse battery staple 42"


def signed_in(email: str) -> APIClient:
    anonymous = APIClient()
    assert anonymous.post("/api/v1/auth/signup/", {"email": email, "password": PASSWORD},
                          format="json").status_code == 202
    response = anonymous.post("/api/v1/auth/signin/", {"email": email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client


def test_signing_in_brings_the_guest_cart_into_the_customers_cart(product):
    product("MUG", price="8.00")
    product("TEA", price="4.50")
    guest = cart_create(APIClient())
    assert guest.add("MUG", 2).status_code == 200
    customer = signed_in("ada@example.com")
    own = cart_create(customer)
    assert own.add("TEA", 1).status_code == 200

    merged = customer.post(cart_url(guest.id, "merge/"), **token_header(guest.token))

    assert merged.status_code == 200, merged.content
    body = merged.json()
    assert body["id"] == own.id
    assert {line["sku"]: line["quantity"] for line in body["lines"]} == {"MUG": 2, "TEA": 1}
    assert body["subtotal"] == "20.50"
    # the guest's token opens nothing any more: the lines live in the customer's cart now
    again = customer.post(cart_url(guest.id, "merge/"), **token_header(guest.token))
    assert again.status_code == 200 and again.json()["id"] == own.id
    assert {line["sku"]: line["quantity"] for line in again.json()["lines"]} == {"MUG": 2, "TEA": 1}


def test_a_customer_without_a_cart_takes_the_guest_cart_over(product):
    product("MUG")
    guest = cart_create(APIClient())
    guest.add("MUG", 1)
    customer = signed_in("bob@example.com")

    merged = customer.post(cart_url(guest.id, "merge/"), **token_header(guest.token))

    assert merged.status_code == 200 and merged.json()["id"] == guest.id
    assert customer.get(cart_url(guest.id)).status_code == 200  # theirs now, no token needed
    assert APIClient().get(cart_url(guest.id), **token_header(guest.token)).status_code == 404


def test_merging_needs_the_carts_token_and_a_signed_in_customer(product):
    product("MUG")
    guest = cart_create(APIClient())
    customer = signed_in("cy@example.com")

    assert customer.post(cart_url(guest.id, "merge/"), **token_header("not-the-token")).status_code == 404
    assert customer.post(cart_url(guest.id, "merge/")).status_code == 404
    assert APIClient().post(cart_url(guest.id, "merge/"), **token_header(guest.token)).status_code == 401
