"""Values that callers hand to the order services."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from apps.pricing.api import DiscountLine, TaxLine


@dataclass(frozen=True)
class LineRequest:
    """A quantity of one SKU: what a customer orders, or what staff refund."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class SnapshotLine:
    """A cart line as checkout priced it (apps.pricing's PricedLineTotals): the order records it
    as it is. `total` is what the customer pays for the line: its price less its share of the
    discounts, plus its tax when prices are net; None: unit_price x quantity (no tax, no discount)."""

    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    tax_class: str = ""
    tax_rate: Decimal = Decimal(0)  # percent
    discount: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    total: Decimal | None = None


@dataclass(frozen=True)
class CartSnapshot:
    """Everything that priced a cart, frozen when its completion began (apps.checkout hands it to
    apps.orders.api.order_place_from_cart). Addresses are plain dicts of validated address
    fields. `total` is what the customer was shown: the order refuses to charge anything else,
    and a snapshot whose parts do not add up to it."""

    cart_id: UUID
    currency: str
    lines: tuple[SnapshotLine, ...]
    shipping_address: Mapping[str, str]
    billing_address: Mapping[str, str]
    shipping_method_id: int | None
    shipping_method: str
    shipping_total: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    # How the totals read (apps.pricing): with prices entered with tax, tax_total is included in
    # them (total = subtotal + shipping - discount); otherwise it is added (... + tax_total).
    prices_include_tax: bool = False
    # Shipping's share of the discounts (free shipping) and its tax, in shipping_total's terms.
    shipping_discount: Decimal = Decimal(0)
    shipping_tax: Decimal = Decimal(0)
    tax_lines: tuple[TaxLine, ...] = ()  # per line (key: SKU) and shipping (key: "shipping")
    discount_lines: tuple[DiscountLine, ...] = ()  # each promotion, with its allocations to lines and shipping
    voucher_codes: tuple[str, ...] = ()  # the codes that gave a discount: one use of each is taken at placement
    tax_id: str = ""  # the customer's VAT number, if they gave one
    zero_rated: bool = False  # reverse charge: taxed at 0 %


class PlacementState(enum.Enum):
    """Where a placement stands, for the cart it came from."""

    PENDING = "pending"  # the saga has not ended (its process died: order recovery ends it)
    PLACED = "placed"  # confirmed, or later in its life (shipped, cancelled, refunded)
    FAILED = "failed"  # rejected for stock, or payment_failed: nothing held, the cart may try again


@dataclass(frozen=True)
class PlacedOrder:
    """An order as another app sees it: its identity, status, placement state and the body that
    GET /api/v1/orders/{id}/ answers for it (`detail`, JSON-ready)."""

    order_id: UUID
    number: str
    status: str
    state: PlacementState
    version: int
    detail: Mapping[str, Any]
