"""Properties that hold for any cart (hypothesis): the breakdown adds up to the total in both price
modes, every discount is spread exactly and never exceeds what it applies to, and refunding by
lines, in any sequence of partial refunds, never gives back more than was paid."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.common.money import minor_unit
from apps.pricing import api as pricing
from tests.pricing.helpers import GERMANY, totals

CURRENCIES = ["EUR", "JPY", "KWD"]
CLASSES = ["standard", "reduced", "zero", "exempt", "unknown-class"]
CATEGORIES = ["books", "home", None]
KINDS = list(pricing.PromotionKind)
SCOPES = list(pricing.PromotionScope)


def amounts(currency, *, max_units=500_000):
    unit = minor_unit(currency)
    return st.integers(min_value=0, max_value=max_units).map(lambda units: Decimal(units) * unit)


rates = st.integers(min_value=0, max_value=3000).map(lambda hundredths: Decimal(hundredths) / 100)  # 0 .. 30.00 %


@st.composite
def carts(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    count = draw(st.integers(min_value=1, max_value=6))
    lines = [pricing.PricingLine(key=f"SKU-{index}", sku=f"SKU-{index}", category=draw(st.sampled_from(CATEGORIES)),
                                 tax_class=draw(st.sampled_from(CLASSES)), amount=draw(amounts(currency)))
             for index in range(count)]
    shipping = draw(st.none() | amounts(currency, max_units=5_000))
    offers = []
    for promotion_id in range(1, draw(st.integers(min_value=0, max_value=4)) + 1):
        kind = draw(st.sampled_from(KINDS))
        if kind is pricing.PromotionKind.PERCENTAGE:
            value = draw(st.integers(min_value=1, max_value=10_000).map(lambda hundredths: Decimal(hundredths) / 100))
        else:
            value = draw(amounts(currency, max_units=200_000))
        rule = pricing.PromotionRule(
            id=promotion_id, name=f"P{promotion_id}", kind=kind, scope=draw(st.sampled_from(SCOPES)), value=value,
            currency=currency if kind is pricing.PromotionKind.FIXED_AMOUNT else "", starts_at=None, ends_at=None,
            min_subtotal=None, combinable=draw(st.booleans()), categories=frozenset({"books"}),
            skus=frozenset({"SKU-0", "SKU-2"}))
        offers.append(pricing.Offer(rule=rule, voucher_code=draw(st.sampled_from([None, f"CODE{promotion_id}"]))))
    table = pricing.RateTable(rates={"standard": draw(rates), "reduced": draw(rates)}, exempt=frozenset({"exempt"}),
                              known=frozenset(CLASSES[:4]))
    mode = draw(st.sampled_from(list(pricing.PriceMode)))
    return totals(lines, mode=mode, shipping=shipping, offers=offers, table=table, currency=currency,
                  destination=GERMANY, zero_rated=draw(st.booleans()))


def exponent_ok(amount: Decimal, currency: str) -> bool:
    return amount == amount.quantize(minor_unit(currency))


@settings(max_examples=300, deadline=None)
@given(priced=carts())
def test_the_breakdown_adds_up_to_the_total_in_both_price_modes(priced):
    if priced.mode is pricing.PriceMode.NET:
        assert priced.subtotal + priced.shipping - priced.discount + priced.tax == priced.total
    else:
        assert priced.subtotal + priced.shipping - priced.discount == priced.total
    shipping_gross = priced.shipping_line.gross if priced.shipping_line else 0
    assert sum(line.gross for line in priced.lines) + shipping_gross == priced.total
    assert sum(line.amount for line in priced.lines) == priced.subtotal
    assert sum(tax.amount for tax in priced.tax_lines) == priced.tax
    for line in priced.lines:
        assert line.net + line.tax == line.gross
        assert line.amount - line.discount == (line.net if priced.mode is pricing.PriceMode.NET else line.gross)
    for figure in (priced.subtotal, priced.shipping, priced.discount, priced.tax, priced.total,
                   *(tax.amount for tax in priced.tax_lines), *(line.gross for line in priced.lines)):
        assert exponent_ok(figure, priced.currency)


@settings(max_examples=300, deadline=None)
@given(priced=carts())
def test_discounts_are_spread_exactly_and_never_exceed_what_they_apply_to(priced):
    for discount in priced.discount_lines:
        assert sum(share for _key, share in discount.allocations) == discount.amount
        assert all(share > 0 for _key, share in discount.allocations)
    assert sum(discount.amount for discount in priced.discount_lines) == priced.discount
    for line in priced.lines:
        assert 0 <= line.discount <= line.amount
        assert line.tax >= 0 and line.gross >= 0
    if priced.shipping_line:
        assert 0 <= priced.shipping_line.discount <= priced.shipping_line.amount
    for discount in priced.discount_lines:
        on_shipping = [share for key, share in discount.allocations if key == pricing.SHIPPING_KEY]
        assert not on_shipping or discount.kind is pricing.PromotionKind.FREE_SHIPPING
    assert priced.total >= 0
    assert len([line for line in priced.discount_lines if line.voucher_code]) == len(priced.applied_codes)


@st.composite
def refund_plans(draw):
    """A priced cart, a quantity per line, and for each line a sequence of partial refunds."""
    priced = draw(carts())
    plans = []
    for line in priced.lines:
        quantity = draw(st.integers(min_value=1, max_value=7))
        steps, left = [], quantity
        while left and draw(st.booleans()):
            step = draw(st.integers(min_value=1, max_value=left))
            steps.append(step)
            left -= step
        plans.append((line, quantity, steps, left))
    return priced, plans


@settings(max_examples=300, deadline=None)
@given(case=refund_plans())
def test_refunds_by_line_never_exceed_what_was_paid_per_line_and_in_total(case):
    priced, plans = case
    refunded_total = 0
    for line, quantity, steps, left in plans:
        done, refunded = 0, {"amount": 0, "tax": 0, "discount": 0}
        for step in [*steps, left] if left else steps:
            refund = pricing.line_refund(gross=line.gross, tax=line.tax, discount=line.discount, quantity=quantity,
                                         refunded_quantity=done, refund_quantity=step, currency=priced.currency)
            done += step
            for part in refunded:
                value = getattr(refund, part)
                assert value >= 0 and exponent_ok(value, priced.currency)
                refunded[part] += value
            assert refunded["amount"] <= line.gross
            assert refunded["tax"] <= line.tax and refunded["discount"] <= line.discount
        # Every unit refunded, in whatever steps: exactly the line's figures.
        assert (refunded["amount"], refunded["tax"], refunded["discount"]) == (line.gross, line.tax, line.discount)
        refunded_total += refunded["amount"]
    shipping_gross = priced.shipping_line.gross if priced.shipping_line else 0
    assert refunded_total + shipping_gross == priced.total
