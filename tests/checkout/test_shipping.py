"""Shipping on the cart: the methods that serve its shipping address, each priced for this cart
(flat, by subtotal band, by weight band, free above a threshold), and the choice of one."""

import pytest

from tests.checkout.conftest import BERLIN, NEW_YORK, PARIS, cart_create

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])


def offered(body: dict) -> dict[str, str]:
    return {method["name"]: method["price"] for method in body["shipping_methods"]}


def test_no_methods_are_listed_before_a_shipping_address(api_client, shipping, product):
    product("LAMP")
    cart = cart_create(api_client)
    cart.add("LAMP")
    assert cart.body()["shipping_methods"] == []


def test_the_methods_listed_are_those_of_the_zones_holding_the_address_country(api_client, shipping, product):
    product("LAMP", price="10.00", weight="1.5")
    euros = cart_create(api_client)
    euros.add("LAMP")
    assert euros.patch({"shipping_address": BERLIN}).status_code == 200
    assert offered(euros.body()) == {"Standard": "4.90", "Economy": "5.90", "Parcel": "4.50"}
    # a country no zone holds gets none; a euro cart gets no dollar method even where one ships
    euros.patch({"shipping_address": {**BERLIN, "country": "CH", "postal_code": "8001", "city": "Zurich"}})
    assert offered(euros.body()) == {}
    euros.patch({"shipping_address": NEW_YORK})
    assert offered(euros.body()) == {}
    dollars = cart_create(api_client, "USD")
    dollars.patch({"shipping_address": NEW_YORK})
    assert offered(dollars.body()) == {"Ground": "5.99"}


def test_subtotal_bands_price_by_the_cart_subtotal(api_client, shipping, product):
    product("LAMP", price="10.00", units=100)
    cart = cart_create(api_client)
    cart.patch({"shipping_address": PARIS})
    prices = []
    for quantity in (2, 1, 5):  # subtotal 20.00, 30.00 (25 is in the second band), 80.00
        cart.add("LAMP", quantity)
        prices.append(offered(cart.body())["Economy"])
    assert prices == ["5.90", "3.90", "0.00"]


def test_a_band_starts_at_its_minimum_and_ends_before_its_maximum(api_client, shipping, product):
    product("LAMP", price="12.50", units=100, weight="1")
    cart = cart_create(api_client)
    cart.patch({"shipping_address": PARIS})
    cart.add("LAMP", 2)  # subtotal 25.00 exactly, weight 2 kg exactly
    assert offered(cart.body())["Economy"] == "3.90"
    assert offered(cart.body())["Parcel"] == "8.90"


def test_weight_bands_price_by_the_total_weight_and_an_overweight_cart_is_not_offered_the_method(
        api_client, shipping, product):
    product("ANVIL", price="1.00", weight="3.25", units=100)
    cart = cart_create(api_client)
    cart.patch({"shipping_address": BERLIN})
    cart.add("ANVIL", 1)
    assert cart.body()["weight"] == "3.250"
    assert offered(cart.body())["Parcel"] == "8.90"  # 3.25 kg
    cart.change("ANVIL", 4)  # 13 kg: beyond the last band
    assert "Parcel" not in offered(cart.body())


def test_shipping_is_free_from_the_method_threshold(api_client, shipping, product):
    product("LAMP", price="24.99")
    product("MUG", price="0.02")
    cart = cart_create(api_client)
    cart.patch({"shipping_address": BERLIN})
    cart.add("LAMP", 2)  # 49.98: just under 50.00
    assert offered(cart.body())["Standard"] == "4.90"
    cart.add("MUG", 1)  # 50.00
    assert offered(cart.body())["Standard"] == "0.00"


def test_the_chosen_method_is_priced_into_the_total(api_client, shipping, product):
    product("LAMP", price="19.99")
    cart = cart_create(api_client)
    cart.add("LAMP")
    cart.patch({"shipping_address": BERLIN})
    response = cart.patch({"shipping_method_id": shipping["flat"].pk})
    assert response.status_code == 200
    body = response.json()
    assert body["shipping_method"] == {"id": shipping["flat"].pk, "name": "Standard", "kind": "flat", "price": "4.90"}
    assert (body["subtotal"], body["shipping"], body["total"]) == ("19.99", "4.90", "24.89")


def test_a_method_that_does_not_serve_the_address_is_a_422_with_a_stable_code(api_client, shipping, product):
    product("LAMP")
    cart = cart_create(api_client)
    cart.add("LAMP")
    before_address = cart.patch({"shipping_method_id": shipping["flat"].pk})
    assert before_address.status_code == 422 and before_address.json()["code"] == "shipping_address_required"
    cart.patch({"shipping_address": BERLIN})
    for method_id in (shipping["us"].pk, 999_999):
        response = cart.patch({"shipping_method_id": method_id})
        assert response.status_code == 422
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "shipping_method_unavailable"
    shipping["weight"].active = False
    shipping["weight"].save()
    assert cart.patch({"shipping_method_id": shipping["weight"].pk}).json()["code"] == "shipping_method_unavailable"
    assert cart.body()["shipping_method"] is None


def test_moving_the_address_out_of_the_method_zone_drops_the_method(api_client, shipping, product):
    product("LAMP")
    cart = cart_create(api_client)
    cart.add("LAMP")
    cart.patch({"shipping_address": BERLIN, "shipping_method_id": shipping["flat"].pk})
    assert cart.last.json()["shipping_method"]["id"] == shipping["flat"].pk
    cart.patch({"shipping_address": PARIS})  # same zone: kept
    assert cart.last.json()["shipping_method"]["id"] == shipping["flat"].pk
    body = cart.patch({"shipping_address": NEW_YORK}).json()
    assert body["shipping_method"] is None and body["shipping"] is None


def test_a_chosen_method_that_stops_serving_the_cart_is_a_warning_not_a_price(api_client, shipping, product):
    product("ANVIL", price="1.00", weight="1", units=100)
    cart = cart_create(api_client)
    cart.add("ANVIL")
    cart.patch({"shipping_address": BERLIN, "shipping_method_id": shipping["weight"].pk})
    cart.change("ANVIL", 20)  # 20 kg: the weight method no longer prices it
    body = cart.body()
    assert body["shipping_method"] is None and body["shipping"] is None and body["total"] == "20.00"
    assert [warning["code"] for warning in body["warnings"]] == ["shipping_method_unavailable"]
