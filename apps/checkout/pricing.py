"""The one place that assembles a cart's figures: catalog facts and shipping terms in, priced
lines, shipping quotes and totals out, so that every caller (the cart read, a code's check,
completion) prices the same way. Lines and shipping are pure functions here; the totals
(discounts, then tax per line and on shipping) are apps.pricing's (`cart_totals` hands it the
counted lines, the shipping price, where the cart goes, who buys and the codes given). Money is
Decimal at the currency's minor unit (apps.common.money)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.common.money import money
from apps.pricing import api as pricing_api

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
    tax_class: str = pricing_api.STANDARD
    category: str | None = None  # slug


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
    tax_class: str = pricing_api.STANDARD
    category: str | None = None  # slug

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
class Buyer:
    """Where the cart goes and who buys, for tax and promotions."""

    country: str | None = None  # the shipping address's (None: no address yet)
    region: str = ""
    customer_id: int | None = None
    email: str = ""
    tax_id: str = ""  # a business customer's VAT number


@dataclass(frozen=True)
class CartTotals:
    """The cart's figures. net prices: subtotal + shipping - discount + tax == total; prices with
    tax (gross): subtotal + shipping - discount == total, tax being within them. `priced` has
    the rest: each line's discount share and tax, shipping's, the discount and tax lines, and
    the codes that gave nothing (with why)."""

    currency: str
    subtotal: Decimal
    shipping: Decimal | None  # None: no shipping method chosen (or it no longer serves the cart)
    discount: Decimal
    tax: Decimal
    total: Decimal
    weight: Decimal  # kg of the counted lines
    priced: pricing_api.PricedCart

    @property
    def prices_include_tax(self) -> bool:
        return self.priced.mode is pricing_api.PriceMode.GROSS

    def line(self, sku: str) -> pricing_api.PricedLineTotals | None:
        """A counted line's discount share and tax (None: the line is not counted)."""
        return next((line for line in self.priced.lines if line.key == sku), None)


def line_price(*, line: LineInput, currency: str, item: CatalogItem | None) -> PricedLine:
    """Price one line against the catalog's current facts, with what changed as warnings."""
    if item is None or not item.active:
        return PricedLine(sku=line.sku, name=item.name if item else "", quantity=line.quantity, unit_price=None,
                          line_total=None, weight=ZERO, warnings=(LineWarning(LineWarningCode.UNAVAILABLE),))
    if item.currency != currency:
        return PricedLine(sku=line.sku, name=item.name, quantity=line.quantity, unit_price=None, line_total=None,
                          weight=ZERO, warnings=(LineWarning(LineWarningCode.CURRENCY_MISMATCH),),
                          tax_class=item.tax_class, category=item.category)
    warnings = []
    if item.available < line.quantity:
        warnings.append(LineWarning(LineWarningCode.INSUFFICIENT_STOCK, available=item.available))
    unit_price = money(item.unit_price, currency)
    if unit_price != line.price_when_written:
        warnings.append(LineWarning(LineWarningCode.PRICE_CHANGED, old_price=money(line.price_when_written, currency),
                                    new_price=unit_price))
    return PricedLine(sku=line.sku, name=item.name, quantity=line.quantity, unit_price=unit_price,
                      line_total=money(unit_price * line.quantity, currency), weight=item.weight * line.quantity,
                      warnings=tuple(warnings), tax_class=item.tax_class, category=item.category)


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


def _pricing_lines(lines: Sequence[PricedLine]) -> list[pricing_api.PricingLine]:
    return [pricing_api.PricingLine(key=line.sku, sku=line.sku, category=line.category, tax_class=line.tax_class,
                                    amount=line.line_total) for line in lines if line.counted]


def _destination(buyer: Buyer) -> pricing_api.TaxDestination | None:
    if not buyer.country:
        return None
    return pricing_api.TaxDestination(country=buyer.country, region=buyer.region)


def _customer(buyer: Buyer) -> pricing_api.PricingCustomer:
    return pricing_api.PricingCustomer(id=buyer.customer_id, email=buyer.email, tax_id=buyer.tax_id)


def _totals(priced: pricing_api.PricedCart, *, lines: Sequence[PricedLine], shipping: Decimal | None) -> CartTotals:
    return CartTotals(currency=priced.currency, subtotal=priced.subtotal, shipping=shipping, discount=priced.discount,
                      tax=priced.tax, total=priced.total, weight=lines_weight(lines), priced=priced)


def cart_totals(*, lines: Sequence[PricedLine], shipping: Decimal | None, currency: str, buyer: Buyer = Buyer(),
                codes: Sequence[str] = ()) -> CartTotals:
    """The lines that can be bought, and shipping, priced by apps.pricing: the promotions that
    apply by themselves and those the codes unlock, then tax for the shipping address (the
    shop's country before there is one), per line and on shipping. A code that gives nothing
    is in `priced.code_problems`, and not counted."""
    priced = pricing_api.cart_price(currency=currency, lines=_pricing_lines(lines), shipping=shipping,
                                    address=_destination(buyer), customer=_customer(buyer), codes=codes)
    return _totals(priced, lines=lines, shipping=shipping)


def cart_totals_with_code(*, code: str, lines: Sequence[PricedLine], shipping: Decimal | None, currency: str,
                          buyer: Buyer = Buyer(), codes: Sequence[str] = ()) -> CartTotals:
    """The cart priced with one more code, or that code's VoucherError (422, a stable code) when
    it would give nothing: unknown, expired, not yet valid, used up, over the customer's limit,
    not for this cart, or beaten by a better promotion that does not combine."""
    priced = pricing_api.voucher_check(code=code, currency=currency, lines=_pricing_lines(lines), shipping=shipping,
                                       address=_destination(buyer), customer=_customer(buyer), codes=codes)
    return _totals(priced, lines=lines, shipping=shipping)
