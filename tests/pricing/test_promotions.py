"""Promotions on a cart: what applies, how much, and how each discount is spread over the lines
it applies to (the shares sum exactly to the discount, no line below zero)."""

from datetime import timedelta
from decimal import Decimal

from apps.pricing import api as pricing
from tests.pricing.helpers import NOW, line, rule, totals

PERCENTAGE, FIXED, FREE_SHIPPING = (pricing.PromotionKind.PERCENTAGE, pricing.PromotionKind.FIXED_AMOUNT,
                                    pricing.PromotionKind.FREE_SHIPPING)
CATEGORIES, PRODUCTS = pricing.PromotionScope.CATEGORIES, pricing.PromotionScope.PRODUCTS


def code(promotion, voucher_code):
    return pricing.Offer(rule=promotion, voucher_code=voucher_code)


def automatic(promotion):
    return pricing.Offer(rule=promotion)


def problems(priced):
    return [(problem.voucher_code, problem.problem) for problem in priced.code_problems]


def test_a_percentage_off_three_lines_of_a_third_splits_to_the_cent():
    priced = totals([line("A", "3.33"), line("B", "3.33"), line("C", "3.33")],
                    offers=[code(rule(value=Decimal("10")), "TEN")], table=pricing.RateTable(rates={}))

    (discount,) = priced.discount_lines
    assert discount.amount == Decimal("1.00")  # 0.999 rounded once, on the whole
    assert discount.allocations == (("A", Decimal("0.34")), ("B", Decimal("0.33")), ("C", Decimal("0.33")))
    assert [priced_line.gross for priced_line in priced.lines] == [Decimal("2.99"), Decimal("3.00"), Decimal("3.00")]
    assert priced.total == Decimal("8.99")
    assert priced.applied_codes == ("TEN",)


def test_a_fixed_amount_off_a_category_is_prorated_over_that_category_s_lines_only():
    cart = [line("NOVEL", "30.00", category="books"), line("ATLAS", "10.00", category="books"),
            line("LAMP", "50.00", category="home")]

    priced = totals(cart, offers=[code(rule(kind=FIXED, scope=CATEGORIES, value=Decimal("10"), currency="EUR",
                                            categories=frozenset({"books"})), "BOOKS10")])

    assert priced.discount_lines[0].allocations == (("NOVEL", Decimal("7.50")), ("ATLAS", Decimal("2.50")))
    assert [priced_line.discount for priced_line in priced.lines] == [Decimal("7.50"), Decimal("2.50"), Decimal(0)]
    # Tax on what is left: 22.50 + 7.50 + 50.00 at 19 %.
    assert [priced_line.tax for priced_line in priced.lines] == [Decimal("4.28"), Decimal("1.43"), Decimal("9.50")]


def test_a_discount_never_takes_a_line_below_zero():
    priced = totals([line("A", "20.00"), line("B", "5.00")],
                    offers=[code(rule(kind=FIXED, scope=PRODUCTS, value=Decimal("100"), currency="EUR",
                                      skus=frozenset({"A"})), "BIG")])

    assert priced.discount == Decimal("20.00")
    assert [(priced_line.gross, priced_line.tax) for priced_line in priced.lines] == [
        (Decimal("0.00"), Decimal("0.00")), (Decimal("5.95"), Decimal("0.95"))]


def test_free_shipping_discounts_shipping_and_its_tax():
    priced = totals([line("A", "10.00")], shipping="4.90", offers=[code(rule(kind=FREE_SHIPPING), "SHIPFREE")])

    assert priced.discount_lines[0].allocations == (("shipping", Decimal("4.90")),)
    assert (priced.shipping_line.gross, priced.shipping_line.tax) == (Decimal("0.00"), Decimal("0.00"))
    assert (priced.shipping, priced.discount, priced.total) == (Decimal("4.90"), Decimal("4.90"), Decimal("11.90"))


def test_free_shipping_before_shipping_is_chosen_is_kept_at_zero():
    priced = totals([line("A", "10.00")], offers=[code(rule(kind=FREE_SHIPPING), "SHIPFREE")])

    assert [(discount.voucher_code, discount.amount) for discount in priced.discount_lines] == [("SHIPFREE", 0)]
    assert priced.code_problems == ()


def test_a_discount_lowers_the_tax_in_net_mode_and_is_taken_off_the_gross_price_in_gross_mode():
    offer = code(rule(value=Decimal("10")), "TEN")

    net = totals([line("A", "100.00")], offers=[offer], mode=pricing.PriceMode.NET)
    gross = totals([line("A", "119.00")], offers=[offer], mode=pricing.PriceMode.GROSS)

    assert (net.discount, net.tax, net.total) == (Decimal("10.00"), Decimal("17.10"), Decimal("107.10"))
    assert (gross.discount, gross.tax, gross.total) == (Decimal("11.90"), Decimal("17.10"), Decimal("107.10"))


def test_minimum_subtotal_currency_and_scope_decide_whether_a_code_applies():
    minimum = rule(1, min_subtotal=Decimal("50"), currency="EUR")
    dollars = rule(2, kind=FIXED, value=Decimal("5"), currency="USD", combinable=True)
    kitchen = rule(3, scope=CATEGORIES, categories=frozenset({"kitchen"}), combinable=True)
    offers = [code(minimum, "MIN50"), code(dollars, "USD5"), code(kitchen, "KITCHEN")]

    short = totals([line("A", "49.99", category="books")], offers=offers)
    enough = totals([line("A", "50.00", category="books")], offers=offers)

    assert problems(short) == [("MIN50", "voucher_not_applicable"), ("USD5", "voucher_not_applicable"),
                               ("KITCHEN", "voucher_not_applicable")]
    assert short.code_problems[0].detail == "This promotion needs a subtotal of at least 50.00 EUR."
    assert enough.applied_codes == ("MIN50",)
    assert enough.discount == Decimal("5.00")


def test_a_promotion_runs_from_its_start_until_before_its_end():
    early = rule(1, starts_at=NOW + timedelta(seconds=1))
    ended = rule(2, ends_at=NOW)
    running = rule(3, starts_at=NOW, ends_at=NOW + timedelta(days=1), value=Decimal("5"))

    priced = totals([line("A", "100.00")], offers=[code(early, "SOON"), code(ended, "GONE"), code(running, "NOW")])

    assert problems(priced) == [("SOON", "voucher_not_yet_valid"), ("GONE", "voucher_expired")]
    assert priced.applied_codes == ("NOW",)


def test_of_promotions_that_do_not_combine_the_customer_gets_the_best_and_is_told_about_the_other():
    priced = totals([line("A", "100.00")], offers=[code(rule(1, value=Decimal("10")), "TEN"),
                                                   code(rule(2, value=Decimal("20")), "TWENTY")])

    assert priced.applied_codes == ("TWENTY",)
    assert priced.discount == Decimal("20.00")
    assert problems(priced) == [("TEN", "voucher_not_combinable")]


def test_an_automatic_promotion_that_does_not_combine_wins_when_it_gives_more_than_the_codes_together():
    site_wide = automatic(rule(1, value=Decimal("20")))
    ten = code(rule(2, value=Decimal("10"), combinable=True), "TEN")
    ship = code(rule(3, kind=FREE_SHIPPING, combinable=True), "SHIP")

    big_shipping = totals([line("A", "100.00")], shipping="15.00", offers=[site_wide, ten, ship])
    small_shipping = totals([line("A", "100.00")], shipping="5.00", offers=[site_wide, ten, ship])

    assert [discount.voucher_code for discount in big_shipping.discount_lines] == ["TEN", "SHIP"]  # 10 + 15 > 20
    assert big_shipping.discount == Decimal("25.00")
    assert [(d.promotion_id, d.voucher_code) for d in small_shipping.discount_lines] == [(1, None)]  # 20 > 10 + 5
    assert problems(small_shipping) == [("TEN", "voucher_not_combinable"), ("SHIP", "voucher_not_combinable")]


def test_combinable_promotions_apply_one_after_the_other_on_what_is_left():
    books = rule(1, scope=CATEGORIES, categories=frozenset({"books"}), value=Decimal("10"), combinable=True)
    ten_off = rule(2, kind=FIXED, value=Decimal("10"), currency="EUR", combinable=True)
    cart = [line("NOVEL", "100.00", category="books"), line("LAMP", "100.00", category="home")]

    priced = totals(cart, offers=[code(ten_off, "TENOFF"), code(books, "BOOKS")])

    assert [(d.voucher_code, d.amount, d.allocations) for d in priced.discount_lines] == [
        ("BOOKS", Decimal("10.00"), (("NOVEL", Decimal("10.00")),)),
        # 10.00 over what is left, 90 : 100.
        ("TENOFF", Decimal("10.00"), (("NOVEL", Decimal("4.74")), ("LAMP", Decimal("5.26")))),
    ]
    assert [priced_line.discount for priced_line in priced.lines] == [Decimal("14.74"), Decimal("5.26")]


def test_two_codes_of_one_promotion_give_its_discount_once():
    ten = rule(1, value=Decimal("10"))

    priced = totals([line("A", "100.00")], offers=[code(ten, "TEN-A"), code(ten, "TEN-B")])

    assert (priced.applied_codes, priced.discount) == (("TEN-A",), Decimal("10.00"))
    assert problems(priced) == [("TEN-B", "voucher_not_combinable")]


def test_a_fixed_amount_in_yen_is_split_in_whole_yen():
    priced = totals([line("A", "1000"), line("B", "1000"), line("C", "1000")], currency="JPY",
                    offers=[code(rule(kind=FIXED, value=Decimal("100"), currency="JPY"), "YEN100")])

    assert priced.discount_lines[0].allocations == (("A", Decimal(34)), ("B", Decimal(33)), ("C", Decimal(33)))
