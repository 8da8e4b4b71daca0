"""Taxes over HTTP: a cart is taxed per line and on shipping for its shipping address, each line
rounded to the currency's minor unit, in both price modes; a business customer with a valid
VAT number under reverse charge is zero-rated; the order freezes the tax lines it was shown."""

import uuid

import pytest

from apps.pricing.models import TaxRate
from tests.checkout.conftest import (
    BERLIN,
    DE_VAT,
    FR_VAT,
    NEW_YORK,
    PARIS,
    SAN_FRANCISCO,
    cart_create,
    cart_url,
    line,
    token_header,
)

pytestmark = pytest.mark.django_db(databases="__all__")


def figures(body) -> tuple:
    return body["subtotal"], body["shipping"], body["discount"], body["tax"], body["total"]


def tax_lines(body) -> list[tuple]:
    return [(tax["key"], tax["tax_class"], tax["rate"], tax["base"], tax["amount"]) for tax in body["tax_lines"]]


@pytest.fixture
def lamp_and_books(product):
    product("LAMP", price="19.99")  # standard rate
    product("BOOK", price="12.00", tax_class="reduced")
    product("VOUCHERCARD", price="25.00", tax_class="exempt")


def berlin_cart(client, shipping, *lines, address=BERLIN):
    cart = cart_create(client)
    for sku, quantity in lines:
        assert cart.add(sku, quantity).status_code == 200, cart.last.content
    assert cart.patch({"shipping_address": address, "shipping_method_id": shipping["flat"].pk}).status_code == 200
    return cart


def complete(cart, **body):
    return cart.client.post(cart_url(cart.id, "complete/"), {"payment_token": "tok_approved", **body}, format="json",
                            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **token_header(cart.token))


def test_net_prices_are_taxed_per_line_at_each_class_rate_and_on_shipping_and_the_order_keeps_it(
        api_client, tax_rates, lamp_and_books, shipping):
    # Given net prices (the default) and a cart to Berlin: a lamp (19 %), two books (7 %), a gift card (exempt)
    cart = berlin_cart(api_client, shipping, ("LAMP", 1), ("BOOK", 2), ("VOUCHERCARD", 1))

    body = cart.body()

    # Then each line carries its tax, rounded on its own, and shipping is taxed at the standard rate
    assert [(line(body, sku)["tax_rate"], line(body, sku)["tax"], line(body, sku)["total"])
            for sku in ("LAMP", "BOOK", "VOUCHERCARD")] == [("19", "3.80", "23.79"), ("7", "1.68", "25.68"),
                                                            ("0", "0.00", "25.00")]
    assert tax_lines(body) == [("LAMP", "standard", "19", "19.99", "3.80"), ("BOOK", "reduced", "7", "24.00", "1.68"),
                               ("VOUCHERCARD", "exempt", "0", "25.00", "0.00"),
                               ("shipping", "standard", "19", "0.00", "0.00")]
    # (free shipping above 50.00: shipping costs nothing, and is taxed nothing)
    assert figures(body) == ("68.99", "0.00", "0.00", "5.48", "74.47")
    assert body["prices_include_tax"] is False and body["zero_rated"] is False

    # When the cart is completed, the order keeps exactly what the cart showed
    order = complete(cart, email="erika@example.com").json()
    assert (order["subtotal"], order["shipping_total"], order["discount_total"], order["tax_total"],
            order["total"], order["prices_include_tax"]) == ("68.99", "0.00", "0.00", "5.48", "74.47", False)
    assert [(tax["key"], tax["rate"], tax["amount"]) for tax in order["tax_lines"]] == [
        ("LAMP", "19", "3.80"), ("BOOK", "7", "1.68"), ("VOUCHERCARD", "0", "0.00"), ("shipping", "19", "0.00")]
    assert [(item["sku"], item["tax_class"], item["tax_rate"], item["tax_total"], item["total"])
            for item in order["lines"]] == [("LAMP", "standard", "19", "3.80", "23.79"),
                                            ("BOOK", "reduced", "7", "1.68", "25.68"),
                                            ("VOUCHERCARD", "exempt", "0", "0.00", "25.00")]


def test_shipping_is_taxed_at_the_standard_rate_of_the_destination(api_client, tax_rates, lamp_and_books, shipping):
    cart = berlin_cart(api_client, shipping, ("BOOK", 1))  # 12.00: below free shipping

    body = cart.body()

    assert tax_lines(body) == [("BOOK", "reduced", "7", "12.00", "0.84"),
                               ("shipping", "standard", "19", "4.90", "0.93")]
    assert figures(body) == ("12.00", "4.90", "0.00", "1.77", "18.67")


def test_gross_prices_hold_their_tax_and_the_total_is_what_the_shelf_says(
        api_client, settings, tax_rates, lamp_and_books, shipping):
    # Given prices entered with tax (as European shops do)
    settings.PRICES_ENTERED_WITH_TAX = True
    cart = berlin_cart(api_client, shipping, ("LAMP", 1), ("BOOK", 1))  # 31.99: shipping 4.90 is charged

    body = cart.body()

    # Then the tax is taken out of each price (rounded per line), and not added to the total
    assert tax_lines(body) == [("LAMP", "standard", "19", "16.80", "3.19"), ("BOOK", "reduced", "7", "11.21", "0.79"),
                               ("shipping", "standard", "19", "4.12", "0.78")]
    assert figures(body) == ("31.99", "4.90", "0.00", "4.76", "36.89")
    assert body["prices_include_tax"] is True
    assert (line(body, "LAMP")["tax"], line(body, "LAMP")["total"]) == ("3.19", "19.99")

    # and the order charges the shelf price, its tax within
    response = complete(cart, email="erika@example.com")
    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["total"], order["tax_total"], order["prices_include_tax"]) == ("36.89", "4.76", True)
    assert order["payment"]["amount_authorized"] == "36.89"


@pytest.mark.parametrize("prices_include_tax", [False, True], ids=["net", "gross"])
def test_three_lines_of_0_333_are_rounded_one_by_one(api_client, settings, tax_rates, product, prices_include_tax):
    # Given a currency with three decimals and three lines of 0.333 at 19 %
    settings.PRICES_ENTERED_WITH_TAX = prices_include_tax
    for sku in ("PEN", "PAD", "INK"):
        product(sku, price="0.333", currency="KWD")
    cart = cart_create(api_client, currency="KWD")
    for sku in ("PEN", "PAD", "INK"):
        cart.add(sku)
    cart.patch({"shipping_address": BERLIN})

    body = cart.body()

    # Then each line's tax is rounded to the fils on its own: three times 0.063 (net) or 0.053
    # (gross), not the tax of 0.999 (0.190 and 0.160)
    each = "0.053" if prices_include_tax else "0.063"
    assert [line(body, sku)["tax"] for sku in ("PEN", "PAD", "INK")] == [each] * 3
    assert body["tax"] == ("0.159" if prices_include_tax else "0.189")
    assert body["total"] == ("0.999" if prices_include_tax else "1.188")


def test_a_rate_with_decimals_applies_in_its_region_only(api_client, customer_client, tax_rates, product, shipping):
    product("CAP", price="19.99", currency="USD")
    california = cart_create(api_client, currency="USD")
    california.add("CAP")
    california.patch({"shipping_address": SAN_FRANCISCO, "shipping_method_id": shipping["us"].pk})
    new_york = cart_create(customer_client, currency="USD")
    new_york.add("CAP")
    new_york.patch({"shipping_address": NEW_YORK, "shipping_method_id": shipping["us"].pk})

    # 7.25 % of 19.99 is 1.449275 -> 1.45; of the 5.99 shipping 0.434275 -> 0.43
    assert tax_lines(california.body()) == [("CAP", "standard", "7.25", "19.99", "1.45"),
                                            ("shipping", "standard", "7.25", "5.99", "0.43")]
    assert figures(california.body()) == ("19.99", "5.99", "0.00", "1.88", "27.86")
    # New York has no rate in the table: no tax
    assert figures(new_york.body()) == ("19.99", "5.99", "0.00", "0.00", "25.98")


def test_before_an_address_the_shops_own_country_rates_apply(api_client, settings, tax_rates, lamp_and_books):
    settings.TAX_ORIGIN_COUNTRY = "DE"
    cart = cart_create(api_client)
    cart.add("LAMP")

    assert cart.body()["tax"] == "3.80"
    cart.patch({"shipping_address": PARIS})
    assert cart.body()["tax"] == "4.00"  # France: 20 %


# ---------------------------------------------------------------- reverse charge


@pytest.fixture
def reverse_charge(settings):
    settings.TAX_REVERSE_CHARGE = True
    settings.TAX_ORIGIN_COUNTRY = "DE"


def test_a_business_in_another_eu_country_with_a_valid_vat_number_is_zero_rated(
        api_client, reverse_charge, tax_rates, lamp_and_books, shipping):
    cart = cart_create(api_client)
    cart.add("LAMP", 2)
    cart.patch({"shipping_address": PARIS, "shipping_method_id": shipping["flat"].pk})
    assert cart.body()["tax"] == "8.98"  # a consumer in France pays French VAT: 20 % of 39.98 and of 4.90

    # When the business gives its French VAT number (any spacing)
    response = cart.patch({"tax_id": "fr 40 303 265 045"})

    # Then the cart is zero-rated: tax lines at 0 %, nothing added
    body = response.json()
    assert (body["tax_id"], body["zero_rated"], body["tax"], body["total"]) == (FR_VAT, True, "0.00", "44.88")
    assert {tax["rate"] for tax in body["tax_lines"]} == {"0"}
    # and the order says so
    order = complete(cart, email="buyer@example.fr").json()
    assert (order["tax_id"], order["zero_rated"], order["tax_total"]) == (FR_VAT, True, "0.00")


def test_a_vat_number_of_another_country_or_of_the_shops_own_is_taxed(
        api_client, reverse_charge, tax_rates, lamp_and_books, shipping):
    to_paris = cart_create(api_client)
    to_paris.add("LAMP")
    to_paris.patch({"shipping_address": PARIS, "tax_id": DE_VAT})
    to_berlin = cart_create(api_client)
    to_berlin.add("LAMP")
    to_berlin.patch({"shipping_address": BERLIN, "tax_id": DE_VAT})

    assert (to_paris.body()["zero_rated"], to_paris.body()["tax"]) == (False, "4.00")
    assert (to_berlin.body()["zero_rated"], to_berlin.body()["tax"]) == (False, "3.80")  # domestic: VAT is due


def test_without_reverse_charge_a_vat_number_changes_nothing(api_client, tax_rates, lamp_and_books):
    cart = cart_create(api_client)
    cart.add("LAMP")
    cart.patch({"shipping_address": PARIS, "tax_id": FR_VAT})

    assert (cart.body()["zero_rated"], cart.body()["tax"]) == (False, "4.00")


def test_an_invalid_vat_number_is_refused_and_an_empty_one_clears_it(api_client, reverse_charge, lamp_and_books):
    cart = cart_create(api_client)
    cart.add("LAMP")

    refused = cart.patch({"tax_id": "FR00000000000"})

    assert refused.status_code == 400
    assert [(error["field"], error["code"]) for error in refused.json()["errors"]] == [("tax_id", "invalid_tax_id")]
    assert cart.patch({"tax_id": FR_VAT}).json()["tax_id"] == FR_VAT
    assert cart.patch({"tax_id": ""}).json()["tax_id"] == ""


def test_a_rate_changed_after_the_order_does_not_change_the_order(customer_client, tax_rates, lamp_and_books,
                                                                  shipping):
    cart = berlin_cart(customer_client, shipping, ("LAMP", 1))
    order = complete(cart).json()

    TaxRate.objects.filter(country="DE", tax_class_id="standard").update(rate=25)

    again = customer_client.get(f"/api/v1/orders/{order['id']}/").json()
    assert (again["tax_total"], again["total"], again["tax_lines"]) == (order["tax_total"], order["total"],
                                                                       order["tax_lines"])
