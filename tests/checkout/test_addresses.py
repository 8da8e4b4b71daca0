"""Cart addresses: inline ones validated as the address book validates, or taken from the
signed-in customer's own address book."""

import uuid

import pytest
from rest_framework.test import APIClient

from tests.checkout.conftest import BERLIN, NEW_YORK, cart_create

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])


def signed_in(email: str) -> APIClient:
    """A new customer, signed up and signed in over HTTP, as a storefront does it."""
    client = APIClient()
    password = "correct-horse-battery-9"
    assert client.post("/api/v1/auth/signup/", {"email": email, "password": password}, format="json").status_code == 202
    signin = client.post("/api/v1/auth/signin/", {"email": email, "password": password}, format="json")
    assert signin.status_code == 200, signin.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signin.json()['token']}")
    return client


def address_book_entry(client: APIClient, address: dict) -> str:
    response = client.post("/api/v1/me/addresses/", address, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_an_inline_address_is_validated_and_kept_as_cleaned(api_client):
    cart = cart_create(api_client)
    response = cart.patch({"shipping_address": {**NEW_YORK, "region": "new york", "phone": "+1 212 736 3100"},
                           "billing_address": BERLIN})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["shipping_address"] == {"name": "John Smith", "company": "", "line1": "350 Fifth Avenue", "line2": "",
                                        "city": "New York", "region": "NY", "postal_code": "10118", "country": "US",
                                        "phone": "+12127363100"}
    assert body["billing_address"]["city"] == "Berlin"


@pytest.mark.parametrize(("address", "code", "field"), [
    ({**BERLIN, "postal_code": "ABC"}, "address_invalid", "shipping_address.postal_code"),
    ({**NEW_YORK, "region": ""}, "address_invalid", "shipping_address.region"),
    ({**BERLIN, "phone": "12"}, "phone_invalid", "shipping_address.phone"),
])
def test_an_invalid_inline_address_is_refused_naming_the_field(api_client, address, code, field):
    cart = cart_create(api_client)
    response = cart.patch({"shipping_address": address})
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert field in [error["field"] for error in response.json()["errors"]]
    assert cart.body()["shipping_address"] is None and cart.body()["version"] == 1


def test_an_unknown_country_is_a_bad_request(api_client):
    cart = cart_create(api_client)
    response = cart.patch({"shipping_address": {**BERLIN, "country": "QQ"}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "shipping_address.country"


def test_an_address_is_given_inline_or_from_the_address_book_not_both(api_client):
    cart = cart_create(api_client)
    response = cart.patch({"shipping_address": BERLIN, "shipping_address_id": str(uuid.uuid4())})
    assert response.status_code == 400


def test_a_customer_uses_their_address_book_for_shipping_and_billing(db):
    # given a signed-in customer with an address in their book
    client = signed_in("ada@example.com")
    address_id = address_book_entry(client, BERLIN)
    cart = cart_create(client)
    # when the cart takes it by id for both
    response = cart.patch({"shipping_address_id": address_id, "billing_address_id": address_id})
    # then the cart holds a copy of it
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["shipping_address"] == body["billing_address"]
    assert {key: body["shipping_address"][key] for key in BERLIN} == BERLIN
    # and a later change to the book does not change the cart
    client.patch(f"/api/v1/me/addresses/{address_id}/", {"city": "Potsdam", "postal_code": "14467"}, format="json")
    assert cart.body()["shipping_address"]["city"] == "Berlin"


def test_another_customers_address_or_a_guest_naming_one_is_not_found(db, api_client):
    owner = signed_in("owner@example.com")
    address_id = address_book_entry(owner, BERLIN)
    stranger_cart = cart_create(signed_in("stranger@example.com"))
    guest_cart = cart_create(api_client)
    for cart in (stranger_cart, guest_cart):
        response = cart.patch({"shipping_address_id": address_id})
        assert response.status_code == 404
        assert cart.body()["shipping_address"] is None
