"""Events as the producers publish them: the orders and payments modules' own event classes,
wrapped in the outbox envelope (apps.common.models.OutboxEvent.envelope)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

import factory

from apps.common.messaging.events import DomainEvent
from apps.common.models import OutboxEvent
from apps.orders import events as order_events
from apps.payments import events as payment_events
from apps.reporting.models import DailySales

T0 = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)


# What version 2 of the order events added (schemas/events/orders.*.v2.json); order_placed v1
# already carried the subtotal.
ORDER_V2_FIELDS = ("subtotal", "shipping_total", "discount_total", "tax_total", "shipping_method",
                   "shipping_method_id", "shipping_address", "billing_address")
# What issue #18 added to version 2, as optional fields (events written before lack them).
ORDER_PRICING_FIELDS = ("prices_include_tax", "tax_lines", "discount_lines", "voucher_codes", "zero_rated")


def envelope(event: DomainEvent, *, at: dt.datetime, event_id: uuid.UUID | None = None,
             version: int | None = None) -> dict:
    """The message the relay publishes for `event`, recorded at `at`. `version=1` for an order
    event: as producers published it before version 2 (older events in queues and the archive)."""
    data = event.data()
    if version == 1:
        kept = ("subtotal",) if event.event_type == "orders.order_placed" else ()
        dropped = (*ORDER_V2_FIELDS, *ORDER_PRICING_FIELDS)
        data = {key: value for key, value in data.items() if key not in dropped or key in kept}
    row = OutboxEvent(id=event_id or uuid.uuid4(), event_type=event.event_type, version=version or event.version,
                      aggregate_id=str(event.aggregate_id()), occurred_at=at, data=data, traceparent="")
    return row.envelope()


class OrderPlacedFactory(factory.Factory):
    class Meta:
        model = order_events.OrderPlaced

    order_id = factory.LazyFunction(uuid.uuid4)
    number = factory.Sequence(lambda n: f"C{n:09d}")
    customer_id = factory.Sequence(lambda n: 1000 + n)
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = ""
    currency = "USD"
    total = Decimal("45.00")
    shipping_total = Decimal("0.00")
    discount_total = Decimal("0.00")
    tax_total = Decimal("0.00")
    subtotal = factory.LazyAttribute(lambda o: o.total - o.shipping_total + o.discount_total - o.tax_total)
    status = "confirmed"
    shipping_method = ""
    shipping_method_id = None
    shipping_address = None
    billing_address = None
    payment_id = factory.LazyFunction(uuid.uuid4)
    lines = factory.LazyAttribute(lambda o: (order_events.OrderLineData(
        sku="MUG-1", name="Mug", quantity=1, unit_price=o.total, line_total=o.total),))


@dataclasses.dataclass
class OrderStory:
    """One order's life as events, each stamped with the time it happened."""

    placed: order_events.OrderPlaced
    refunded_total: Decimal = Decimal(0)
    version: int | None = None  # 1: the events as published before version 2

    @classmethod
    def new(cls, version: int | None = None, **fields) -> OrderStory:
        return cls(placed=OrderPlacedFactory(**fields), version=version)

    @property
    def order_id(self) -> uuid.UUID:
        return self.placed.order_id

    def _fields(self, status: str) -> dict:
        p = self.placed
        return {"order_id": p.order_id, "number": p.number, "customer_id": p.customer_id, "email": p.email,
                "phone": p.phone, "currency": p.currency, "total": p.total, "status": status,
                **{field: getattr(p, field) for field in (*ORDER_V2_FIELDS, *ORDER_PRICING_FIELDS)}}

    def _envelope(self, event: DomainEvent, at: dt.datetime) -> dict:
        return envelope(event, at=at, version=self.version)

    def place(self, at: dt.datetime = T0) -> dict:
        return self._envelope(self.placed, at)

    def pay(self, at: dt.datetime) -> dict:
        return self._envelope(order_events.OrderPaid(**self._fields("confirmed"), payment_id=self.placed.payment_id,
                                                     amount=self.placed.total), at)

    def ship(self, at: dt.datetime) -> dict:
        return self._envelope(order_events.OrderShipped(**self._fields("shipped")), at)

    def cancel(self, at: dt.datetime) -> dict:
        return self._envelope(order_events.OrderCancelled(**self._fields("cancelled"), reason="Customer asked"), at)

    def refund(self, amount: str | Decimal, at: dt.datetime) -> dict:
        """A refund after the ones already told: its status says whether the order is now fully refunded."""
        self.refunded_total += Decimal(amount)
        status = "refunded" if self.refunded_total == self.placed.total else "partially_refunded"
        return self._envelope(order_events.OrderRefunded(**self._fields(status), amount=Decimal(amount),
                                                         refunded_total=self.refunded_total), at)


class PaymentStory:
    """One payment's life as payments events (cumulative amounts after each change)."""

    def __init__(self, *, order_id: uuid.UUID | None = None, amount: str = "45.00", currency: str = "USD"):
        self.payment_id, self.order_id = uuid.uuid4(), order_id or uuid.uuid4()
        self.amount, self.currency = Decimal(amount), currency
        self.authorized = self.captured = self.refunded = Decimal(0)

    def _event(self, cls, amount: Decimal, status: str, at: dt.datetime, **extra) -> dict:
        event = cls(payment_id=self.payment_id, order_id=self.order_id, transaction_id=uuid.uuid4(), amount=amount,
                    currency=self.currency, status=status, amount_authorized=self.authorized,
                    amount_captured=self.captured, amount_refunded=self.refunded, method="card", provider="fake",
                    provider_reference=f"ref-{uuid.uuid4().hex[:8]}", **extra)
        return envelope(event, at=at)

    def authorize(self, at: dt.datetime) -> dict:
        self.authorized = self.amount
        return self._event(payment_events.PaymentAuthorized, self.amount, "authorized", at)

    def capture(self, at: dt.datetime) -> dict:
        self.captured = self.amount
        return self._event(payment_events.PaymentCaptured, self.amount, "captured", at)

    def void(self, at: dt.datetime) -> dict:
        return self._event(payment_events.PaymentVoided, self.amount, "voided", at)

    def refund(self, amount: str, at: dt.datetime) -> dict:
        self.refunded += Decimal(amount)
        status = "refunded" if self.refunded == self.captured else "partially_refunded"
        return self._event(payment_events.PaymentRefunded, Decimal(amount), status, at, refund_id=uuid.uuid4())

    def fail(self, at: dt.datetime) -> dict:
        return self._event(payment_events.PaymentFailed, self.amount, "failed", at, decline_code="card_declined",
                           reason="Declined")


class DailySalesFactory(factory.django.DjangoModelFactory):
    """A report row as the projection would hold it (for list and export tests that need many)."""

    class Meta:
        model = DailySales

    day = dt.date(2026, 1, 1)
    currency = "USD"
    key = factory.LazyAttribute(lambda o: DailySales.key_for(o.day, o.currency))
    orders = 2
    gross = Decimal("90.00")
    shipping = Decimal("0.00")
    refunds = Decimal("10.00")
    net = factory.LazyAttribute(lambda o: o.gross - o.refunds)
