"""Taxes: per line and on shipping, rounded per line to the currency's minor unit, in both price
modes, from the rate table staff keep (country, region, tax class)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.pricing import api as pricing
from apps.pricing.models import TaxClass
from tests.pricing.factories import TaxRateFactory
from tests.pricing.helpers import NOW, line, totals

NET, GROSS = pricing.PriceMode.NET, pricing.PriceMode.GROSS


def tax_of(priced, key):
    return next(tax for tax in priced.tax_lines if tax.key == key)


def test_net_prices_get_tax_added_per_line_and_on_shipping_at_the_standard_rate():
    cart = [line("BOOK", "50.00", tax_class="reduced"), line("LAMP", "100.00"),
            line("GIFT", "20.00", tax_class="exempt"), line("BREAD", "10.00", tax_class="zero")]

    priced = totals(cart, mode=NET, shipping="4.90")

    assert [(tax.key, tax.rate, tax.base, tax.amount) for tax in priced.tax_lines] == [
        ("BOOK", Decimal("7"), Decimal("50.00"), Decimal("3.50")),
        ("LAMP", Decimal("19"), Decimal("100.00"), Decimal("19.00")),
        ("GIFT", Decimal("0"), Decimal("20.00"), Decimal("0.00")),
        ("BREAD", Decimal("0"), Decimal("10.00"), Decimal("0.00")),
        ("shipping", Decimal("19"), Decimal("4.90"), Decimal("0.93")),  # 0.931
    ]
    assert (priced.subtotal, priced.shipping, priced.tax, priced.total) == (
        Decimal("180.00"), Decimal("4.90"), Decimal("23.43"), Decimal("208.33"))


def test_gross_prices_have_their_tax_taken_out_and_the_total_is_what_was_entered():
    cart = [line("BOOK", "53.50", tax_class="reduced"), line("LAMP", "119.00"),
            line("GIFT", "20.00", tax_class="exempt")]

    priced = totals(cart, mode=GROSS, shipping="5.95")

    assert [(tax.key, tax.base, tax.amount) for tax in priced.tax_lines] == [
        ("BOOK", Decimal("50.00"), Decimal("3.50")),
        ("LAMP", Decimal("100.00"), Decimal("19.00")),
        ("GIFT", Decimal("20.00"), Decimal("0.00")),
        ("shipping", Decimal("5.00"), Decimal("0.95")),
    ]
    assert priced.tax == Decimal("23.45")
    assert priced.total == Decimal("198.45") == priced.subtotal + priced.shipping
    assert [(priced_line.net, priced_line.gross) for priced_line in priced.lines][1] == (Decimal("100.00"),
                                                                                        Decimal("119.00"))


def test_tax_is_rounded_per_line_not_on_the_sum():
    # Each line's tax is 0.3325, rounded to 0.33; on the sum (5.25) it would have been 1.00.
    priced = totals([line("A", "1.75"), line("B", "1.75"), line("C", "1.75")], mode=NET)

    assert [tax.amount for tax in priced.tax_lines] == [Decimal("0.33")] * 3
    assert priced.tax == Decimal("0.99")
    assert priced.total == Decimal("6.24")


def test_rates_with_decimals_like_7_25_percent_round_half_up_in_both_modes():
    table = pricing.RateTable(rates={"standard": Decimal("7.25")})

    net = totals([line("A", "10.00")], mode=NET, table=table)  # 0.725
    gross = totals([line("A", "10.00")], mode=GROSS, table=table)  # 10 x 7.25 / 107.25 = 0.67599
    half = totals([line("A", "2.50")], mode=NET, table=pricing.RateTable(rates={"standard": Decimal("5")}))  # 0.125

    assert (net.tax, net.total) == (Decimal("0.73"), Decimal("10.73"))
    assert (gross.tax, gross.lines[0].net, gross.total) == (Decimal("0.68"), Decimal("9.32"), Decimal("10.00"))
    assert half.tax == Decimal("0.13")


@pytest.mark.parametrize(("currency", "amount", "tax"), [("JPY", "999", Decimal("100")),
                                                         ("KWD", "0.333", Decimal("0.033")),
                                                         ("EUR", "0.33", Decimal("0.03"))])
def test_tax_is_rounded_to_each_currency_s_minor_unit(currency, amount, tax):
    priced = totals([line("A", amount)], mode=NET, currency=currency,
                    table=pricing.RateTable(rates={"standard": Decimal("10")}))

    assert priced.tax == tax
    assert priced.tax.as_tuple().exponent == tax.as_tuple().exponent


def test_an_unknown_tax_class_is_taxed_at_the_standard_rate():
    priced = totals([line("A", "10.00", tax_class="no-such-class")], mode=NET)

    assert (priced.tax_lines[0].tax_class, priced.tax) == ("standard", Decimal("1.90"))


def test_a_zero_rated_cart_keeps_its_tax_lines_at_zero():
    priced = totals([line("A", "100.00")], mode=NET, shipping="5.00", zero_rated=True)

    assert [(tax.key, tax.rate, tax.amount) for tax in priced.tax_lines] == [
        ("A", Decimal(0), Decimal("0.00")), ("shipping", Decimal(0), Decimal("0.00"))]
    assert priced.total == Decimal("105.00")


def test_no_destination_and_no_origin_means_no_tax(db, settings):
    settings.TAX_ORIGIN_COUNTRY = ""
    TaxRateFactory(country="DE", rate=Decimal("19"))

    priced = pricing.cart_price(currency="EUR", lines=[line("A", "10.00")], shipping=None, address=None,
                                customer=None, now=NOW)

    assert (priced.tax, priced.total) == (Decimal("0.00"), Decimal("10.00"))


def test_before_an_address_is_known_the_shop_s_own_country_taxes_the_cart(db, settings):
    settings.TAX_ORIGIN_COUNTRY, settings.PRICES_ENTERED_WITH_TAX = "DE", True
    TaxRateFactory(country="DE", rate=Decimal("19"))

    priced = pricing.cart_price(currency="EUR", lines=[line("A", "11.90")], shipping=None, address=None,
                                customer=None, now=NOW)

    assert (priced.mode, priced.tax, priced.total) == (GROSS, Decimal("1.90"), Decimal("11.90"))


def test_a_region_s_rate_replaces_its_country_s_and_other_regions_keep_the_country_s(db, settings):
    settings.PRICES_ENTERED_WITH_TAX = False
    reduced = TaxClass.objects.get(code="reduced")
    TaxRateFactory(country="ES", rate=Decimal("21"))
    TaxRateFactory(country="ES", tax_class=reduced, rate=Decimal("10"))
    TaxRateFactory(country="ES", region="CN", rate=Decimal("7"))  # the Canary Islands' general rate
    TaxRateFactory(country="US", region="CA", rate=Decimal("7.25"))
    cart = [line("A", "100.00"), line("B", "100.00", tax_class="reduced")]

    def tax_at(country, region=""):
        priced = pricing.cart_price(currency="EUR", lines=cart, shipping=Decimal("10.00"), customer=None, now=NOW,
                                    address=pricing.TaxDestination(country=country, region=region))
        return [(tax.key, tax.rate, tax.amount) for tax in priced.tax_lines]

    assert tax_at("ES") == [("A", 21, Decimal("21.00")), ("B", 10, Decimal("10.00")),
                            ("shipping", 21, Decimal("2.10"))]
    assert tax_at("ES", "cn") == [("A", 7, Decimal("7.00")), ("B", 10, Decimal("10.00")),
                                  ("shipping", 7, Decimal("0.70"))]
    assert tax_at("US", "CA") == [("A", Decimal("7.25"), Decimal("7.25")), ("B", 0, Decimal("0.00")),
                                  ("shipping", Decimal("7.25"), Decimal("0.73"))]
    assert tax_at("US", "NY") == [("A", 0, Decimal("0.00")), ("B", 0, Decimal("0.00")),
                                  ("shipping", 0, Decimal("0.00"))]


@pytest.mark.parametrize(("tax_id", "country", "reverse_charge", "zero_rated"), [
    ("NL004495445B01", "NL", True, True),  # a Dutch business, shipped to the Netherlands
    ("nl 0044.95445 b01", "NL", True, True),  # typed with blanks and dots, lower case
    ("NL004495445B01", "NL", False, False),  # the shop does not apply reverse charge
    ("NL123456789B01", "NL", True, False),  # check digits wrong
    ("FR40303265045", "NL", True, False),  # a French number, shipped to the Netherlands
    ("DE136695976", "DE", True, False),  # the shop's own country: domestic sale, tax charged
    ("", "NL", True, False),
])
def test_business_customers_with_a_valid_vat_number_abroad_are_zero_rated(db, settings, tax_id, country,
                                                                          reverse_charge, zero_rated):
    settings.TAX_ORIGIN_COUNTRY, settings.TAX_REVERSE_CHARGE, settings.PRICES_ENTERED_WITH_TAX = (
        "DE", reverse_charge, False)
    TaxRateFactory(country=country, rate=Decimal("20"))

    priced = pricing.cart_price(currency="EUR", lines=[line("A", "100.00")], shipping=Decimal("5.00"),
                                address=pricing.TaxDestination(country=country),
                                customer=pricing.PricingCustomer(id=7, email="buyer@example.com", tax_id=tax_id),
                                now=NOW)

    assert priced.zero_rated is zero_rated
    assert priced.tax == (Decimal("0.00") if zero_rated else Decimal("21.00"))


class FlatFivePercent:
    """A stand-in for a tax service's adapter: 5 % on everything."""

    name = "flat-five"

    def taxes_calculate(self, request):
        table = pricing.RateTable(rates={"standard": Decimal("5")})
        return pricing.taxes_compute(request=request, table=table)


def test_the_calculator_is_chosen_by_setting_among_the_registered_ones(db, settings):
    pricing.tax_calculator_register(name="flat-five", factory=FlatFivePercent)
    settings.TAX_CALCULATOR, settings.PRICES_ENTERED_WITH_TAX = "flat-five", False
    TaxRateFactory(country="DE", rate=Decimal("19"))

    priced = pricing.cart_price(currency="EUR", lines=[line("A", "100.00")], shipping=None,
                                address=pricing.TaxDestination(country="DE"), customer=None, now=NOW)
    settings.TAX_CALCULATOR = "no-such-calculator"

    assert priced.tax == Decimal("5.00")
    with pytest.raises(ImproperlyConfigured, match="no-such-calculator"):
        pricing.cart_price(currency="EUR", lines=[line("A", "100.00")], shipping=None, address=None, customer=None)


def test_the_four_tax_classes_are_there_after_migrate(db):
    assert list(TaxClass.objects.values_list("code", "exempt")) == [
        ("exempt", True), ("reduced", False), ("standard", False), ("zero", False)]
