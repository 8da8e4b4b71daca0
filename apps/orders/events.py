"""Domain events that apps.orders publishes through the outbox (schemas/events/orders.*.v2.json).

Version 2 (issue #17) adds what a storefront order carries to every order event: the totals
breakdown, the shipping method and price, both addresses; `customer_id` is null for a guest
order. Consumers still accept version 1 (orders.*.v1.json), which older events in queues and
in the archive carry.

Issue #18 adds to version 2, as optional fields (events written before lack them; consumers
read them with a default): `prices_include_tax`, the frozen `tax_lines` and `discount_lines`,
the `voucher_codes`, `zero_rated`; each placed line's tax and discount share; a refund's lines.
Nothing existing changes meaning: with prices entered net (and in every event before), tax is
added to the total; `prices_include_tax` says when it is included instead."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
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
    # Issue #18 (optional in the schema): how tax reads, and the order's frozen pricing as it
    # keeps it (apps.orders.models.Order: money as strings).
    prices_include_tax: bool = False
    tax_lines: Sequence[Mapping] = ()
    discount_lines: Sequence[Mapping] = ()
    voucher_codes: Sequence[str] = ()
    zero_rated: bool = False

    def aggregate_id(self) -> str:
        return str(self.order_id)


@dataclasses.dataclass(frozen=True)
class OrderLineData:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    tax_class: str = ""
    tax_rate: Decimal = Decimal(0)  # percent
    discount: Decimal = Decimal(0)  # the line's share of the discounts
    tax: Decimal = Decimal(0)
    total: Decimal | None = None  # what the customer paid for the line (line_total - discount, + tax when net)

    def __post_init__(self):
        if self.total is None:  # no tax, no discount: the line cost its line total
            object.__setattr__(self, "total", self.line_total)


@dataclasses.dataclass(frozen=True)
class OrderRefundLineData:
    """Units of a line refunded: what they gave back, and the tax and discount in it."""

    sku: str
    quantity: int
    amount: Decimal
    tax: Decimal
    discount: Decimal


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
    lines: tuple[OrderRefundLineData, ...] = ()  # a refund by lines; empty for a refund of an amount
