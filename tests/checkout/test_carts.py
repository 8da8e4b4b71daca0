"""Carts over HTTP: guests with a secret cart token, signed-in customers, lines, totals priced by
the server from the catalog, warnings, and conditional writes."""

import pytest
from rest_framework.test import APIClient

from tests.checkout.conftest import CARTS, cart_create, cart_url, if_match, line, product_set, stock_set, token_header
from tests.conftest import client_of

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])


# --- guests and customers ------------------------------------------------------------------------

def test_a_guest_cart_answers_only_to_its_token(api_client):
    # given a guest cart
    created = api_client.post(CARTS, {"currency": "eur"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["currency"] == "EUR" and body["lines"] == [] and body["total"] == "0.00"
    assert len(body["token"]) >= 40 and created.headers["ETag"] == '"1"'
    assert created.headers["Location"].endswith(f"/api/v1/carts/{body['id']}/")
    # when it is read without its token, with a wrong one, and with it
    without = api_client.get(cart_url(body["id"]))
    wrong = api_client.get(cart_url(body["id"]), **token_header("not-the-token"))
    right = api_client.get(cart_url(body["id"]), **token_header(body["token"]))
    # then only the token opens it, and a read never shows the token again
    assert without.status_code == wrong.status_code == 404
    assert without["Content-Type"] == "application/problem+json"
    assert right.status_code == 200 and "token" not in right.json()


def test_a_guest_cannot_write_to_a_cart_without_its_token(api_client, product):
    product("LAMP")
    cart = cart_create(api_client)
    response = api_client.post(cart_url(cart.id, "lines/"), {"sku": "LAMP", "quantity": 1}, format="json",
                               **if_match(cart.etag))
    assert response.status_code == 404
    assert cart.body()["lines"] == []


def test_a_customer_has_one_open_cart_per_currency(customer_client):
    # given a customer's euro cart
    first = customer_client.post(CARTS, {"currency": "EUR"}, format="json")
    assert first.status_code == 201 and "token" not in first.json()
    # when they ask for a euro cart again, and for a dollar cart
    again = customer_client.post(CARTS, {"currency": "EUR"}, format="json")
    dollars = customer_client.post(CARTS, {"currency": "USD"}, format="json")
    # then the euro cart is the same one, the dollar cart a new one, and both are listed
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert dollars.status_code == 201 and dollars.json()["id"] != first.json()["id"]
    listed = customer_client.get(CARTS)
    assert sorted(cart["id"] for cart in listed.json()) == sorted([first.json()["id"], dollars.json()["id"]])
    # and the customer reads it with their credentials alone
    assert customer_client.get(cart_url(first.json()["id"])).status_code == 200


def test_another_customers_cart_is_not_found(customer_client, other_customer, product):
    product("LAMP")
    cart = cart_create(customer_client)
    intruder = client_of(other_customer)
    assert intruder.get(cart_url(cart.id)).status_code == 404
    assert intruder.post(cart_url(cart.id, "lines/"), {"sku": "LAMP", "quantity": 1}, format="json",
                         **if_match(cart.etag)).status_code == 404
    assert intruder.patch(cart_url(cart.id), {"shipping_address": None}, format="json",
                          **if_match(cart.etag)).status_code == 404
    assert APIClient().get(cart_url(cart.id)).status_code == 404
    assert intruder.get(CARTS).json() == []
    assert cart.body()["lines"] == []


def test_listing_carts_needs_a_signed_in_customer(api_client):
    assert api_client.get(CARTS).status_code == 401


def test_an_unsupported_currency_is_refused(api_client):
    response = api_client.post(CARTS, {"currency": "XXX"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "currency"


# --- lines and totals ----------------------------------------------------------------------------

def test_lines_are_added_changed_and_removed_by_sku(api_client, product):
    product("LAMP", price="19.99")
    product("MUG", price="7.50")
    cart = cart_create(api_client)
    # when units are added, added again, changed and removed
    assert cart.add("lamp", 2).status_code == 200
    assert cart.add("MUG", 1).status_code == 200
    assert cart.add("LAMP", 1).status_code == 200
    assert line(cart.last.json(), "LAMP")["quantity"] == 3
    assert cart.change("MUG", 4).status_code == 200
    assert cart.remove("LAMP").status_code == 200
    # then the cart holds what is left, and every write moved its version on
    body = cart.body()
    assert [(item["sku"], item["quantity"]) for item in body["lines"]] == [("MUG", 4)]
    assert body["version"] == 6 and cart.etag == '"6"'


def test_setting_a_quantity_makes_the_line_and_removing_a_missing_line_is_not_found(api_client, product):
    product("LAMP")
    cart = cart_create(api_client)
    assert cart.remove("LAMP").status_code == 404
    assert cart.change("LAMP", 2).status_code == 200
    assert cart.change("LAMP", 2).status_code == 200  # the same quantity again: still 2
    assert [(item["sku"], item["quantity"]) for item in cart.body()["lines"]] == [("LAMP", 2)]
    too_many = cart.change("LAMP", 11)
    assert too_many.status_code == 409 and too_many.json()["available"] == 10


def test_one_line_reads_priced_with_the_cart_etag(api_client, product):
    product("LAMP", price="19.99")
    cart = cart_create(api_client)
    cart.add("LAMP", 2)
    response = api_client.get(cart_url(cart.id, "lines/lamp/"), **token_header(cart.token))
    assert response.status_code == 200 and response.headers["ETag"] == cart.etag
    assert (response.json()["quantity"], response.json()["line_total"]) == (2, "39.98")
    assert api_client.get(cart_url(cart.id, "lines/MUG/"), **token_header(cart.token)).status_code == 404
    assert api_client.get(cart_url(cart.id, "lines/LAMP/")).status_code == 404  # no token


def test_totals_are_computed_by_the_server_from_the_catalog(api_client, product):
    product("LAMP", price="19.99")
    product("MUG", price="7.50")
    cart = cart_create(api_client)
    # a client-sent price is no input at all
    cart.add("LAMP", 2)
    api_client.post(cart_url(cart.id, "lines/"), {"sku": "MUG", "quantity": 3, "unit_price": "0.01"}, format="json",
                    **token_header(cart.token), **if_match(cart.etag))
    body = cart.body()
    assert line(body, "LAMP") | {"warnings": []} == {"sku": "LAMP", "name": line(body, "LAMP")["name"], "quantity": 2,
                                                      "unit_price": "19.99", "line_total": "39.98", "warnings": [],
                                                      "tax_class": "standard", "tax_rate": "0", "discount": "0.00",
                                                      "tax": "0.00", "total": "39.98"}
    assert line(body, "MUG")["line_total"] == "22.50"
    assert (body["subtotal"], body["shipping"], body["discount"], body["tax"], body["total"]) == (
        "62.48", None, "0.00", "0.00", "62.48")


def test_amounts_follow_the_currency_minor_unit(api_client, product):
    product("TEA", price="1500", currency="JPY")
    cart = cart_create(api_client, "JPY")
    cart.add("TEA", 3)
    assert cart.body()["total"] == "4500"


def test_a_product_that_cannot_be_bought_is_refused_when_added(api_client, product):
    product("LAMP", units=2)
    product("OLD")
    product_set("OLD", active=False)
    product("DOLLAR", currency="USD")
    cart = cart_create(api_client)
    unknown, inactive = cart.add("NOPE"), cart.add("OLD")
    other_currency = cart.add("DOLLAR")
    too_many = cart.add("LAMP", 3)
    assert unknown.status_code == inactive.status_code == 422
    assert unknown.json()["code"] == inactive.json()["code"] == "cart_product_unavailable"
    assert other_currency.status_code == 422 and other_currency.json()["code"] == "cart_currency_mismatch"
    assert too_many.status_code == 409 and too_many.json()["code"] == "cart_insufficient_stock"
    assert too_many.json()["available"] == 2
    assert cart.body()["lines"] == [] and cart.body()["version"] == 1


def test_a_line_past_the_quantity_limit_is_refused(api_client, product, settings):
    product("LAMP", units=5000)
    cart = cart_create(api_client)
    assert cart.add("LAMP", 1000).status_code == 400  # the schema's maximum
    cart.add("LAMP", 999)
    response = cart.add("LAMP", 1)
    assert response.status_code == 422 and response.json()["code"] == "cart_line_limit"


# --- warnings when the catalog moved -------------------------------------------------------------

def test_a_price_change_since_the_line_was_added_is_a_warning_and_the_new_price_counts(api_client, product):
    product("LAMP", price="19.99")
    cart = cart_create(api_client)
    cart.add("LAMP", 2)
    product_set("LAMP", price="24.99")
    body = cart.body()
    assert line(body, "LAMP")["warnings"] == [{"code": "price_changed", "old_price": "19.99", "new_price": "24.99"}]
    assert line(body, "LAMP")["unit_price"] == "24.99" and body["total"] == "49.98"
    # changing the line takes the new price: the warning goes
    cart.change("LAMP", 1)
    assert line(cart.body(), "LAMP")["warnings"] == []


def test_a_line_that_became_unavailable_is_flagged_and_not_counted(api_client, product):
    product("LAMP", price="19.99")
    product("MUG", price="7.50")
    cart = cart_create(api_client)
    cart.add("LAMP")
    cart.add("MUG")
    product_set("LAMP", active=False)
    body = cart.body()
    assert line(body, "LAMP")["warnings"] == [{"code": "unavailable"}]
    assert line(body, "LAMP")["unit_price"] is None and line(body, "LAMP")["line_total"] is None
    assert body["subtotal"] == body["total"] == "7.50"


def test_a_line_short_of_stock_says_how_many_are_available(api_client, product):
    product("LAMP", units=10)
    cart = cart_create(api_client)
    cart.add("LAMP", 5)
    stock_set("LAMP", 3)
    assert line(cart.body(), "LAMP")["warnings"] == [{"code": "insufficient_stock", "available": 3}]


def test_a_product_now_sold_in_another_currency_is_flagged_and_not_counted(api_client, product):
    product("LAMP", price="19.99")
    cart = cart_create(api_client)
    cart.add("LAMP")
    product_set("LAMP", currency="USD")
    body = cart.body()
    assert line(body, "LAMP")["warnings"] == [{"code": "currency_mismatch"}]
    assert body["total"] == "0.00"


# --- conditional writes --------------------------------------------------------------------------

def test_a_write_without_if_match_is_428_and_changes_nothing(api_client, product):
    product("LAMP")
    cart = cart_create(api_client)
    response = api_client.post(cart_url(cart.id, "lines/"), {"sku": "LAMP", "quantity": 1}, format="json",
                               **token_header(cart.token))
    assert response.status_code == 428 and response.json()["code"] == "precondition_required"
    assert cart.body()["lines"] == []


def test_a_write_with_a_stale_etag_is_412_and_changes_nothing(api_client, product):
    product("LAMP")
    product("MUG")
    cart = cart_create(api_client)
    stale = cart.etag
    cart.add("LAMP")
    for response in (cart.add("MUG", etag=stale), cart.patch({"shipping_address": None}, etag=stale)):
        assert response.status_code == 412
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "precondition_failed"
    assert [item["sku"] for item in cart.body()["lines"]] == ["LAMP"]


def test_a_weak_etag_from_a_proxy_still_matches(api_client, product):
    product("LAMP")
    cart = cart_create(api_client)
    assert cart.add("LAMP", etag=f"W/{cart.etag}").status_code == 200
