"""Domain events that apps.orders publishes through the outbox (schemas/events/orders.*.v2.json).

Version 2 (issue #17) adds what a storefront order carries to every order event: the totals
breakdown, the shipping method and price, both addresses; `customer_id` is null for a guest
order. Consumers still accept version 1 (orders.*.v1.json), which older events in queues and
in the archive carry."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from uuid import UUID

from apps.common.messaging.events import DomainEvent


@dataclasses.dataclass(frozen=True, kw_only=True)
class OrderEventBase(DomainEvent):
    version = 2
    order_id: UUID
    number: str
    customer_id: int | None  # None: a guest order
    email: str
    phone: str
    currency: str
    # total = subtotal + shipping_total - discount_total + tax_total
    subtotal: Decimal
    shipping_total: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    status: str
    shipping_method: str  # its name when ordered; "" for an order that ships nothing
    shipping_method_id: int | None
    shipping_address: Mapping[str, str] | None
    billing_address: Mapping[str, str] | None

    def aggregate_id(self) -> str:
        return str(self.order_id)


@dataclasses.dataclass(frozen=True)
class OrderLineData:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclasses.dataclass(frozen=True, kw_only=True)
class OrderPlaced(OrderEventBase):
    event_type = "orders.order_placed"
    lines: tuple[OrderLineData, ...]
    payment_id: UUID | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class OrderPaid(OrderEventBase):
    event_type = "orders.order_paid"
    payment_id: UUID
    amount: Decimal


@dataclasses.dataclass(frozen=True, kw_only=True)
class OrderShipped(OrderEventBase):
    event_type = "orders.order_shipped"


@dataclasses.dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEventBase):
    event_type = "orders.order_cancelled"
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class OrderRefunded(OrderEventBase):
    event_type = "orders.order_refunded"
    amount: Decimal
    refunded_total: Decimal
