"""Domain events that apps.orders publishes through the outbox (schemas/events/orders.*.v1.json)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from uuid import UUID

from apps.common.messaging.events import DomainEvent


@dataclasses.dataclass(frozen=True, kw_only=True)
class OrderEventBase(DomainEvent):
    order_id: UUID
    number: str
    customer_id: int
    email: str
    phone: str
    currency: str
    total: Decimal
    status: str

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
    subtotal: Decimal
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
