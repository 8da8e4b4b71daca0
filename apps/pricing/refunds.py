"""Refunds by line on a frozen order line: some of its units give back their share of what the
line cost (its price less its discount share, plus its tax), and of the tax and discount in it.

Each figure for the first c units is the line's figure x c / quantity, rounded to the minor unit;
a refund of k more units gives the difference between c + k and c. So any sequence of partial
refunds gives back exactly the line's figures once every unit is refunded, never more, and never
a negative amount on the way."""

from __future__ import annotations

from decimal import Decimal

from apps.common.money import money_round
from apps.pricing.types import LineRefund


def _share(figure: Decimal, *, units: int, quantity: int, currency: str) -> Decimal:
    if units == quantity:
        return figure
    return money_round(figure * units / quantity, currency)


def line_refund(*, gross: Decimal, tax: Decimal, discount: Decimal, quantity: int, refunded_quantity: int,
                refund_quantity: int, currency: str) -> LineRefund:
    """What refunding `refund_quantity` more units of a line gives back, after `refunded_quantity`
    units were refunded before. `gross`, `tax`, `discount` are the line's frozen figures (PricedLineTotals)."""
    if quantity <= 0 or refunded_quantity < 0 or refund_quantity <= 0:
        raise ValueError("Quantities must be positive (refunded_quantity may be zero).")
    if refunded_quantity + refund_quantity > quantity:
        raise ValueError(f"Only {quantity - refunded_quantity} of the line's {quantity} units are left to refund.")
    before, after = refunded_quantity, refunded_quantity + refund_quantity

    def part(figure: Decimal) -> Decimal:
        return (_share(figure, units=after, quantity=quantity, currency=currency)
                - _share(figure, units=before, quantity=quantity, currency=currency))

    return LineRefund(amount=part(gross), tax=part(tax), discount=part(discount))
