"""The pricing module's types: what checkout and orders hand in and get back (apps.pricing.api
re-exports them). Frozen dataclasses and enums only; money is Decimal at the currency's minor
unit, tax rates are percentages (Decimal("7.25") is 7.25 %). This module imports nothing of the
app, so any module of it may import this one."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

ZERO = Decimal(0)
# The key of shipping in tax lines and discount allocations; a cart line must not use it.
SHIPPING_KEY = "shipping"
# The tax class shipping is taxed at, and the one an unknown class code falls back to.
STANDARD = "standard"


class PriceMode(enum.StrEnum):
    """How prices are entered (settings.PRICES_ENTERED_WITH_TAX)."""

    GROSS = "gross"  # tax included (European shops): tax is taken out of the price
    NET = "net"  # tax excluded (American shops): tax is added on top


# --- Taxes ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaxDestination:
    country: str  # ISO 3166-1 alpha-2, upper case
    region: str = ""  # the address's region (state, province) where rates differ by region


@dataclass(frozen=True)
class TaxableLine:
    key: str
    tax_class: str  # a TaxClass code: standard, reduced, zero, exempt, or one staff added
    amount: Decimal  # after discounts, gross or net as the request's mode says


@dataclass(frozen=True)
class TaxRequest:
    currency: str
    mode: PriceMode
    lines: tuple[TaxableLine, ...]
    shipping: Decimal | None  # after discounts; None: no shipping priced yet
    destination: TaxDestination | None  # None: unknown, no tax (cart_price passes TAX_ORIGIN_COUNTRY's instead)
    zero_rated: bool = False  # reverse charge: a business customer with a valid tax id


@dataclass(frozen=True)
class TaxLine:
    """Tax on one line (or on shipping, key SHIPPING_KEY), rounded to the currency's minor unit."""

    key: str
    tax_class: str
    rate: Decimal  # percent
    base: Decimal  # the net amount taxed
    amount: Decimal  # the tax


@dataclass(frozen=True)
class TaxResult:
    lines: tuple[TaxLine, ...]  # one per request line, in the request's order
    shipping: TaxLine | None


@dataclass(frozen=True)
class RateTable:
    """The rates that apply at one destination: tax class code -> percent (a region's rate
    already replaces its country's). Class codes without a rate here are taxed at 0 %."""

    rates: Mapping[str, Decimal]
    exempt: frozenset[str] = frozenset()  # classes never taxed, whatever the table says
    known: frozenset[str] = frozenset({STANDARD})  # class codes that exist; others count as standard


# --- Promotions ----------------------------------------------------------------------------------

class PromotionKind(enum.StrEnum):
    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"
    FREE_SHIPPING = "free_shipping"


class PromotionScope(enum.StrEnum):
    ORDER = "order"  # every line
    CATEGORIES = "categories"  # lines whose product is in one of the categories (slugs)
    PRODUCTS = "products"  # lines of the given SKUs


@dataclass(frozen=True)
class PromotionRule:
    """A promotion as the pricing core reads it (apps.pricing.selectors loads it)."""

    id: int
    name: str
    kind: PromotionKind
    scope: PromotionScope
    value: Decimal  # percent for PERCENTAGE, an amount in `currency` for FIXED_AMOUNT, unused otherwise
    currency: str  # "" : any currency (a percentage or free shipping without minimum subtotal)
    starts_at: datetime | None
    ends_at: datetime | None  # exclusive
    min_subtotal: Decimal | None  # in `currency`, compared with the subtotal before discounts
    combinable: bool
    active: bool = True
    categories: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Offer:
    """A promotion the cart may get: automatically (voucher_code None) or through a code."""

    rule: PromotionRule
    voucher_code: str | None = None


@dataclass(frozen=True)
class DiscountableLine:
    key: str
    sku: str
    category: str | None  # category slug
    amount: Decimal  # the line's total as entered (unit price x quantity)


@dataclass(frozen=True)
class DiscountLine:
    """One promotion's discount, prorated over what it applies to: the allocations (line key, or
    SHIPPING_KEY for free shipping) sum exactly to `amount`; lines with a zero share are left out."""

    promotion_id: int
    promotion_name: str
    kind: PromotionKind
    voucher_code: str | None
    amount: Decimal
    allocations: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class CodeProblem:
    """A code the cart holds that gives no discount now, with the voucher error's stable code."""

    voucher_code: str
    problem: str  # voucher_not_found, voucher_expired, ... (apps.pricing.errors)
    detail: str


@dataclass(frozen=True)
class DiscountOutcome:
    discounts: tuple[DiscountLine, ...]
    problems: tuple[CodeProblem, ...]


# --- Totals --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PricingLine:
    """One cart or order line as pricing needs it."""

    key: str  # unique in the cart (the SKU does), not SHIPPING_KEY
    sku: str
    category: str | None  # category slug
    tax_class: str
    amount: Decimal  # unit price x quantity, as entered (gross or net by PRICES_ENTERED_WITH_TAX)


@dataclass(frozen=True)
class PricingCustomer:
    id: int | None  # None: a guest
    email: str = ""
    tax_id: str = ""  # a VAT number, e.g. "DE136695976": zero-rated under TAX_REVERSE_CHARGE


@dataclass(frozen=True)
class PricedLineTotals:
    key: str
    tax_class: str
    tax_rate: Decimal  # percent
    amount: Decimal  # as entered
    discount: Decimal  # this line's share of every discount
    net: Decimal
    tax: Decimal
    gross: Decimal  # what the customer pays for the line: refunding the whole line gives this back


@dataclass(frozen=True)
class PricedShipping:
    tax_rate: Decimal
    amount: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True)
class PricedCart:
    """Every figure of a priced cart, ready to be shown or frozen on an order.

    net mode:   subtotal + shipping - discount + tax == total
    gross mode: subtotal + shipping - discount == total (tax is included)
    both:       sum(line.gross) + shipping_line.gross == total"""

    currency: str
    mode: PriceMode
    lines: tuple[PricedLineTotals, ...]
    shipping_line: PricedShipping | None
    discount_lines: tuple[DiscountLine, ...]
    tax_lines: tuple[TaxLine, ...]  # the lines', then shipping's
    code_problems: tuple[CodeProblem, ...]
    applied_codes: tuple[str, ...]  # the codes that gave a discount line
    zero_rated: bool
    subtotal: Decimal  # the lines as entered
    shipping: Decimal  # as entered (0 without shipping)
    discount: Decimal
    tax: Decimal
    total: Decimal


# --- Vouchers ------------------------------------------------------------------------------------

class VoucherUseStatus(enum.StrEnum):
    RESERVED = "reserved"  # taken by an order being placed
    USED = "used"  # the order was placed
    RELEASED = "released"  # the order failed or was cancelled before shipment: the use is back


@dataclass(frozen=True)
class VoucherUseInfo:
    voucher_code: str
    promotion_id: int
    order_id: UUID
    customer_id: int | None
    email: str
    status: VoucherUseStatus


@dataclass(frozen=True)
class VoucherUsage:
    """A voucher's limits and how its uses stand (the usage report)."""

    code: str
    promotion_id: int
    promotion_name: str
    usage_limit: int | None
    usage_limit_per_customer: int | None
    used: int  # held now: reserved + confirmed
    reserved: int
    confirmed: int
    released: int


# --- Refunds -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineRefund:
    """What refunding some units of a frozen line gives back, and the parts of it."""

    amount: Decimal  # paid for those units: their price less their discount share, plus their tax
    tax: Decimal
    discount: Decimal
