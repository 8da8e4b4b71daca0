"""The order's frozen pricing: a cart snapshot's figures checked to add up, and its tax and
discount lines as the JSON the order keeps (money as strings, never floats)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from apps.common.money import money
from apps.orders.errors import OrderTotalMismatch
from apps.orders.types import CartSnapshot, SnapshotLine
from apps.pricing.api import DiscountLine, TaxLine

ZERO = Decimal(0)


def line_total(line: SnapshotLine, currency: str) -> Decimal:
    """unit price x quantity, as entered."""
    return money(line.unit_price * line.quantity, currency)


def line_paid(line: SnapshotLine, currency: str) -> Decimal:
    """What the customer pays for the line (the snapshot's `total`, or its line total)."""
    return line_total(line, currency) if line.total is None else money(line.total, currency)


def percent(rate) -> Decimal:
    """A stored rate as staff wrote it: 19.0000 -> 19, 7.2500 -> 7.25 (never 2E+1)."""
    rate = Decimal(rate)
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def _tax_added(amount: Decimal, *, prices_include_tax: bool) -> Decimal:
    return ZERO if prices_include_tax else amount


def snapshot_check(snapshot: CartSnapshot) -> None:
    """Refuse (OrderTotalMismatch, nothing written) a snapshot whose figures do not add up: every
    line's total is its price less its discount (plus its tax, net), discounts and taxes sum to
    their totals, and the total is both the sum of its parts and of what each line and shipping cost."""
    currency, gross = snapshot.currency, snapshot.prices_include_tax
    problems = []
    if not snapshot.lines:
        problems.append("The cart has no lines.")
    for line in snapshot.lines:
        expected = line_total(line, currency) - money(line.discount, currency) + _tax_added(
            money(line.tax, currency), prices_include_tax=gross)
        if line_paid(line, currency) != expected:
            problems.append(f"Line {line.sku} costs {line_paid(line, currency)}, not {expected}.")
    subtotal = sum((line_total(line, currency) for line in snapshot.lines), ZERO)
    shipping = money(snapshot.shipping_total, currency)
    shipping_discount = money(snapshot.shipping_discount, currency)
    shipping_tax = money(snapshot.shipping_tax, currency)
    discount, tax = money(snapshot.discount_total, currency), money(snapshot.tax_total, currency)
    if discount != sum((money(line.discount, currency) for line in snapshot.lines), shipping_discount):
        problems.append(f"The lines' and shipping's discounts do not sum to {discount}.")
    if snapshot.discount_lines and discount != sum((line.amount for line in snapshot.discount_lines), ZERO):
        problems.append(f"The discount lines do not sum to {discount}.")
    if tax != sum((money(line.tax, currency) for line in snapshot.lines), shipping_tax):
        problems.append(f"The lines' and shipping's taxes do not sum to {tax}.")
    if snapshot.tax_lines and tax != sum((line.amount for line in snapshot.tax_lines), ZERO):
        problems.append(f"The tax lines do not sum to {tax}.")
    total = money(subtotal + shipping - discount + _tax_added(tax, prices_include_tax=gross), currency)
    shipping_paid = shipping - shipping_discount + _tax_added(shipping_tax, prices_include_tax=gross)
    paid = sum((line_paid(line, currency) for line in snapshot.lines), shipping_paid)
    shown = money(snapshot.total, currency)
    if total != shown or paid != shown:
        problems.append(f"The cart's total {snapshot.total} {currency} is not its parts' {total}.")
    if problems:
        raise OrderTotalMismatch(" ".join(problems), extra={"cart_id": str(snapshot.cart_id)})


def _text(amount: Decimal) -> str:
    return str(amount)


def tax_lines_json(lines: Sequence[TaxLine]) -> list[dict]:
    return [{"key": line.key, "tax_class": line.tax_class, "rate": _text(line.rate), "base": _text(line.base),
             "amount": _text(line.amount)} for line in lines]


def discount_lines_json(lines: Sequence[DiscountLine]) -> list[dict]:
    return [{"promotion_id": line.promotion_id, "promotion_name": line.promotion_name, "kind": str(line.kind),
             "voucher_code": line.voucher_code, "amount": _text(line.amount),
             "allocations": [{"key": key, "amount": _text(amount)} for key, amount in line.allocations]}
            for line in lines]
