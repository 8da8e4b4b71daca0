"""Values that callers hand to the order services."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class LineRequest:
    """A quantity of one SKU: what a customer orders, or what staff refund."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class SnapshotLine:
    """A cart line as checkout priced it: the order records it as it is."""

    sku: str
    name: str
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class CartSnapshot:
    """Everything that priced a cart, frozen when its completion began (apps.checkout hands it to
    apps.orders.api.order_place_from_cart). Addresses are plain dicts of validated address
    fields. `total` is what the customer was shown: the order refuses to charge anything else."""

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
