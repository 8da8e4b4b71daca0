"""Cart pricing as pure functions: catalog facts and shipping terms in, priced lines and totals
out. No database, no clock, so that taxes and discounts can be added here later and every
caller (the cart read, completion) prices the same way. Money is Decimal at the currency's
minor unit (apps.common.money)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.common.money import money

ZERO = Decimal(0)


class LineWarningCode(enum.Enum):
    UNAVAILABLE = "unavailable"  # unknown SKU or not for sale: not priced, not counted
    CURRENCY_MISMATCH = "currency_mismatch"  # the product is now sold in another currency: not counted
    INSUFFICIENT_STOCK = "insufficient_stock"  # fewer units available than the line's quantity
    PRICE_CHANGED = "price_changed"  # the price moved since the line was written


@dataclass(frozen=True)
class LineWarning:
    code: LineWarningCode
    available: int | None = None  # INSUFFICIENT_STOCK
    old_price: Decimal | None = None  # PRICE_CHANGED
    new_price: Decimal | None = None


@dataclass(frozen=True)
class CatalogItem:
    """What the catalog says of a SKU now (apps.catalog.api price snapshot and stock level)."""

    sku: str
    name: str
    unit_price: Decimal
    currency: str
    active: bool
    weight: Decimal  # kg per unit
    available: int


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    price_when_written: Decimal


@dataclass(frozen=True)
class PricedLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal | None  # None: the line cannot be bought (see warnings)
    line_total: Decimal | None
    weight: Decimal  # kg, all units
    warnings: tuple[LineWarning, ...]

    @property
    def counted(self) -> bool:
        return self.line_total is not None


@dataclass(frozen=True)
class RateBand:
    min_value: Decimal  # inclusive
    max_value: Decimal | None  # exclusive; None: no upper bound
    price: Decimal


class ShippingKind(enum.Enum):
    FLAT = "flat"
    SUBTOTAL = "subtotal"
    WEIGHT = "weight"


@dataclass(frozen=True)
class ShippingTerms:
    """A shipping method's pricing rules."""

    method_id: int
    name: str
    kind: ShippingKind
    currency: str
    price: Decimal  # FLAT
    free_above: Decimal | None
    bands: tuple[RateBand, ...] = ()


@dataclass(frozen=True)
class ShippingQuote:
    method_id: int
    name: str
    kind: ShippingKind
    price: Decimal


@dataclass(frozen=True)
class CartTotals:
    currency: str
    subtotal: Decimal
    shipping: Decimal | None  # None: no shipping method chosen (or it no longer serves the cart)
    discount: Decimal
    tax: Decimal
    total: Decimal
    weight: Decimal  # kg of the counted lines


def line_price(*, line: LineInput, currency: str, item: CatalogItem | None) -> PricedLine:
    """Price one line against the catalog's current facts, with what changed as warnings."""
    if item is None or not item.active:
        return PricedLine(sku=line.sku, name=item.name if item else "", quantity=line.quantity, unit_price=None,
                          line_total=None, weight=ZERO, warnings=(LineWarning(LineWarningCode.UNAVAILABLE),))
    if item.currency != currency:
        return PricedLine(sku=line.sku, name=item.name, quantity=line.quantity, unit_price=None, line_total=None,
                          weight=ZERO, warnings=(LineWarning(LineWarningCode.CURRENCY_MISMATCH),))
    warnings = []
    if item.available < line.quantity:
        warnings.append(LineWarning(LineWarningCode.INSUFFICIENT_STOCK, available=item.available))
    unit_price = money(item.unit_price, currency)
    if unit_price != line.price_when_written:
        warnings.append(LineWarning(LineWarningCode.PRICE_CHANGED, old_price=money(line.price_when_written, currency),
                                    new_price=unit_price))
    return PricedLine(sku=line.sku, name=item.name, quantity=line.quantity, unit_price=unit_price,
                      line_total=money(unit_price * line.quantity, currency), weight=item.weight * line.quantity,
                      warnings=tuple(warnings))


def lines_subtotal(lines: Sequence[PricedLine], currency: str) -> Decimal:
    return money(sum((line.line_total for line in lines if line.counted), ZERO), currency)


def lines_weight(lines: Sequence[PricedLine]) -> Decimal:
    return sum((line.weight for line in lines if line.counted), ZERO)


def shipping_price(*, terms: ShippingTerms, subtotal: Decimal, weight: Decimal) -> Decimal | None:
    """What the method charges for a cart with this subtotal and weight; None when it does not
    price such a cart (no band holds the value)."""
    if terms.free_above is not None and subtotal >= terms.free_above:
        return money(ZERO, terms.currency)
    if terms.kind is ShippingKind.FLAT:
        return money(terms.price, terms.currency)
    value = subtotal if terms.kind is ShippingKind.SUBTOTAL else weight
    for band in terms.bands:
        if band.min_value <= value and (band.max_value is None or value < band.max_value):
            return money(band.price, terms.currency)
    return None


def shipping_quotes(*, methods: Sequence[ShippingTerms], lines: Sequence[PricedLine],
                    currency: str) -> list[ShippingQuote]:
    """The methods that can ship this cart, each with its price, cheapest first."""
    subtotal, weight = lines_subtotal(lines, currency), lines_weight(lines)
    quotes = []
    for terms in methods:
        if terms.currency != currency:
            continue
        price = shipping_price(terms=terms, subtotal=subtotal, weight=weight)
        if price is not None:
            quotes.append(ShippingQuote(method_id=terms.method_id, name=terms.name, kind=terms.kind, price=price))
    return sorted(quotes, key=lambda quote: (quote.price, quote.name, quote.method_id))


def cart_totals(*, lines: Sequence[PricedLine], shipping: Decimal | None, currency: str) -> CartTotals:
    """Subtotal of the lines that can be bought, plus shipping; discount and tax are zero until
    the pricing module provides them."""
    subtotal = lines_subtotal(lines, currency)
    discount = tax = money(ZERO, currency)
    total = money(subtotal + (shipping or ZERO) - discount + tax, currency)
    return CartTotals(currency=currency, subtotal=subtotal, shipping=shipping, discount=discount, tax=tax,
                      total=total, weight=lines_weight(lines))
