"""Reporting writes: project order and payment events; rebuild the projections from the archive.

Reporting is a consumer of the event backbone (apps.common.messaging.consumers): its queue
"reporting.events" is bound to orders.# and payments.#, and `event_project` runs for each event
inside the inbox transaction on the reporting alias, so a redelivered event is skipped and a
crash leaves both the inbox row and the projection change, or neither. The projections are
order-independent (see apps.reporting.models), so events may arrive in any order."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.db.models import Q

from apps.common.messaging.consumers import EventConsumer, InvalidEvent, ReceivedEvent, event_apply
from apps.common.messaging.inbox import inbox_purge
from apps.common.models import OutboxEvent
from apps.common.money import InvalidMoney, money
from apps.reporting import selectors
from apps.reporting.models import DailySales, InboxEvent, OrderRefund, OrderReport, PaymentReport

logger = logging.getLogger(__name__)

DB = "reporting"


@dataclasses.dataclass(frozen=True)
class RebuildResult:
    replayed: int  # events read from the archive
    applied: int  # of which changed the projections (the others had been applied meanwhile)
    invalid: int  # of which break their contract: skipped, as the live consumer dead-letters them


# ---------------------------------------------------------------- entry points

def reporting_event_apply(envelope: dict) -> bool:
    """Apply one event envelope as the reporting consumer does for a delivered message: schema
    check, inbox, projection. True if applied now; False if applied before or not an event type
    reporting reads. Raises apps.common.messaging.consumers.InvalidEvent when it breaks its contract."""
    event_type = envelope.get("type") if isinstance(envelope, dict) else None
    if event_type is not None and not CONSUMER.wants(str(event_type)):
        return False
    return event_apply(consumer=CONSUMER, envelope=envelope)


def event_project(event: ReceivedEvent) -> None:
    """The consumer's handler: change the projections for one event. Runs inside the inbox
    transaction on the reporting alias (apps.common.messaging.inbox.inbox_apply)."""
    handler = _HANDLERS.get((event.type, event.version))
    if handler is None:
        logger.debug("reporting has nothing to project for %s v%s", event.type, event.version)
        return
    # Facts are compared by time: make it aware (a producer bug must not crash the consumer) and UTC,
    # whose date is the report day.
    at = event.occurred_at if event.occurred_at.tzinfo is not None else event.occurred_at.replace(tzinfo=dt.UTC)
    handler(dataclasses.replace(event, occurred_at=at.astimezone(dt.UTC)))


CONSUMER = EventConsumer(
    name="reporting",
    bindings=("orders.#", "payments.#"),  # the queue's bindings on the domain-events exchange
    handler=event_project,
    inbox=InboxEvent,
    using=DB,
)


# ---------------------------------------------------------------- orders

def _earliest(current: dt.datetime | None, candidate: dt.datetime) -> dt.datetime:
    return candidate if current is None or candidate < current else current


def _latest(current: dt.datetime | None, candidate: dt.datetime) -> dt.datetime:
    return candidate if current is None or candidate > current else current


def _amount(data: dict, field: str, currency: str) -> Decimal:
    try:
        return money(data[field], currency)
    except (KeyError, InvalidMoney) as exc:
        raise InvalidEvent(f"Bad {field!r} in event data: {exc}") from exc


Days = set[tuple[dt.date, str]]  # DailySales rows to recompute: (day, currency)


def _order_apply(event: ReceivedEvent, change: Callable[[OrderReport, ReceivedEvent], Days]) -> None:
    data = event.data
    try:
        order_id, currency = UUID(str(data["order_id"])), str(data["currency"]).upper()
        number, customer_id = str(data["number"]), int(data["customer_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"Bad order data in {event.type} {event.id}: {exc}") from exc
    total = _amount(data, "total", currency)
    report, _ = OrderReport.objects.select_for_update().get_or_create(
        pk=order_id, defaults={"number": number, "customer_id": customer_id, "currency": currency,
                               "total": total, "last_event_at": event.occurred_at})
    # Every order event carries the order's identity and total, which never change.
    report.number, report.customer_id, report.currency = number, customer_id, currency
    report.total = total if report.total is None else report.total
    days = change(report, event)
    report.last_event_at = _latest(report.last_event_at, event.occurred_at)
    report.status = _order_status(report)
    report.save()
    if report.placed_on is not None:
        days.add((report.placed_on, report.currency))
    _daily_sales_recompute(days)


def _order_status(report: OrderReport) -> str:
    """Derived from the facts seen, by precedence, so that the order of events cannot matter."""
    S = OrderReport.Status
    if report.refunded_amount > 0 and (
            report.fully_refunded or (report.total is not None and report.refunded_amount >= report.total)):
        return S.REFUNDED
    if report.refunded_amount > 0:
        return S.PARTIALLY_REFUNDED
    if report.cancelled_at is not None:
        return S.CANCELLED
    if report.shipped_at is not None:
        return S.SHIPPED
    return S.CONFIRMED


def _placed(report: OrderReport, event: ReceivedEvent) -> Days:
    report.subtotal = _amount(event.data, "subtotal", report.currency)
    report.total = _amount(event.data, "total", report.currency)
    payment_id = event.data.get("payment_id")
    if payment_id:
        report.payment_id = UUID(str(payment_id))
    report.placed_at = _earliest(report.placed_at, event.occurred_at)
    report.placed_on = report.placed_at.astimezone(dt.UTC).date()
    return set()


def _paid(report: OrderReport, event: ReceivedEvent) -> Days:
    report.paid_at = _earliest(report.paid_at, event.occurred_at)
    if event.data.get("payment_id"):
        report.payment_id = UUID(str(event.data["payment_id"]))
    return set()


def _shipped(report: OrderReport, event: ReceivedEvent) -> Days:
    report.shipped_at = _earliest(report.shipped_at, event.occurred_at)
    return set()


def _cancelled(report: OrderReport, event: ReceivedEvent) -> Days:
    report.cancelled_at = _earliest(report.cancelled_at, event.occurred_at)
    return set()


def _refunded(report: OrderReport, event: ReceivedEvent) -> Days:
    # Keyed by event id, so the projection stays idempotent even once the inbox row is purged.
    OrderRefund.objects.get_or_create(event_id=event.id, defaults={
        "order_id": report.order_id, "currency": report.currency,
        "amount": _amount(event.data, "amount", report.currency),
        "occurred_at": event.occurred_at, "refunded_on": event.occurred_at.date()})
    report.fully_refunded = report.fully_refunded or event.data.get("status") == OrderReport.Status.REFUNDED
    figures = _one(selectors.order_refund_figures(order_id=report.order_id))
    report.refunded_amount = figures["refunded"]
    report.refunded_at = figures["last_refund_at"]
    return {(event.occurred_at.date(), report.currency)}


def _one(grouped) -> dict | None:
    # Not .first(): it would order, and so group, by the primary key.
    return next(iter(grouped), None)


def _daily_sales_recompute(days: Days) -> None:
    """Recompute each (day, currency) row from the order and refund rows. The row is locked
    first, so that two transactions touching the same day run one after the other and the
    second sees what the first committed; sorted, so that they never lock in opposite orders."""
    for day, currency in sorted(days):
        row, _ = DailySales.objects.select_for_update().get_or_create(
            key=DailySales.key_for(day, currency), defaults={"day": day, "currency": currency})
        orders = _one(selectors.daily_sales_order_figures(day=day, currency=currency))
        refunds = _one(selectors.daily_sales_refund_figures(day=day, currency=currency))
        row.orders = orders["orders"] if orders else 0
        row.gross = orders["gross"] if orders else Decimal(0)
        row.refunds = refunds["refunds"] if refunds else Decimal(0)
        row.net = row.gross - row.refunds
        row.save(update_fields=["orders", "gross", "refunds", "net"])


# ---------------------------------------------------------------- payments

# A payment's status is the most advanced fact seen about it (money moved beats a void of the
# remainder after a partial capture).
_PAYMENT_PRECEDENCE = [PaymentReport.Status.PENDING, PaymentReport.Status.FAILED, PaymentReport.Status.AUTHORIZED,
                       PaymentReport.Status.VOIDED, PaymentReport.Status.CAPTURED,
                       PaymentReport.Status.PARTIALLY_REFUNDED, PaymentReport.Status.REFUNDED]
_PAYMENT_TYPE_STATUS = {
    "payments.payment_failed": PaymentReport.Status.FAILED,
    "payments.payment_authorized": PaymentReport.Status.AUTHORIZED,
    "payments.payment_captured": PaymentReport.Status.CAPTURED,
    "payments.payment_voided": PaymentReport.Status.VOIDED,
    "payments.payment_refunded": PaymentReport.Status.PARTIALLY_REFUNDED,
}
_PAYMENT_TIMESTAMP = {
    "payments.payment_failed": "failed_at",
    "payments.payment_authorized": "authorized_at",
    "payments.payment_captured": "captured_at",
    "payments.payment_voided": "voided_at",
}


def _payment_apply(event: ReceivedEvent) -> None:
    data = event.data
    try:
        payment_id = UUID(str(data["payment_id"]))
        order_id = UUID(str(data["order_id"])) if data.get("order_id") else None
        currency = str(data["currency"]).upper()
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"Bad payment data in {event.type} {event.id}: {exc}") from exc
    report, _ = PaymentReport.objects.select_for_update().get_or_create(
        pk=payment_id, defaults={"order_id": order_id, "currency": currency, "last_event_at": event.occurred_at})
    report.order_id, report.currency = order_id or report.order_id, currency
    status = _PAYMENT_TYPE_STATUS[event.type]
    if event.type == "payments.payment_refunded":
        report.refunded_at = _latest(report.refunded_at, event.occurred_at)
        if data.get("status") == PaymentReport.Status.REFUNDED:
            status = PaymentReport.Status.REFUNDED
    else:
        field = _PAYMENT_TIMESTAMP[event.type]
        setattr(report, field, _earliest(getattr(report, field), event.occurred_at))
    if event.type == "payments.payment_authorized" and "amount" in data:
        report.amount_authorized = _amount(data, "amount", currency)
    # Cumulative amounts only grow, so the largest one seen is the latest, in any order.
    for field in ("amount_captured", "amount_refunded"):
        if data.get(field) is not None:
            setattr(report, field, max(getattr(report, field), _amount(data, field, currency)))
    if _PAYMENT_PRECEDENCE.index(status) > _PAYMENT_PRECEDENCE.index(report.status):
        report.status = status
    report.last_event_at = _latest(report.last_event_at, event.occurred_at)
    report.save()


_HANDLERS: dict[tuple[str, int], Callable[[ReceivedEvent], None]] = {
    ("orders.order_placed", 1): lambda event: _order_apply(event, _placed),
    ("orders.order_paid", 1): lambda event: _order_apply(event, _paid),
    ("orders.order_shipped", 1): lambda event: _order_apply(event, _shipped),
    ("orders.order_cancelled", 1): lambda event: _order_apply(event, _cancelled),
    ("orders.order_refunded", 1): lambda event: _order_apply(event, _refunded),
    **{(event_type, 1): _payment_apply for event_type in _PAYMENT_TYPE_STATUS},
}


# ---------------------------------------------------------------- housekeeping

def reporting_inbox_purge(*, older_than: dt.timedelta) -> int:
    """Forget inbox rows older than any redelivery can arrive. Safe even if one does: every
    projection change is idempotent on its own (earliest/latest times, refunds keyed by event id,
    cumulative payment amounts); the inbox spares the work and records what was applied."""
    return inbox_purge(model=InboxEvent, using=DB, older_than=older_than)


# ---------------------------------------------------------------- rebuild

def reporting_rebuild(*, batch_size: int = 500) -> RebuildResult:
    """Empty the projections and the inbox, then replay the event archive through
    reporting_event_apply, oldest first.

    The archive is every outbox row of an order or payment event, published or still pending:
    a pending row is a committed fact that the relay has not sent yet, so the rebuilt projection
    includes it, and the inbox entry written here makes the consumer skip it when it arrives.
    Safe while the consumer runs: whatever it applies meanwhile converges with the replay.
    Events purged from the outbox by its retention (OUTBOX_RETENTION_DAYS) are gone for good."""
    with transaction.atomic(using=DB):
        for model in (InboxEvent, OrderRefund, OrderReport, PaymentReport, DailySales):
            model.objects.all().delete()
    replayed = applied = invalid = 0
    for envelope in _archive(batch_size=batch_size):
        replayed += 1
        try:
            applied += reporting_event_apply(envelope)
        except InvalidEvent as exc:
            invalid += 1
            logger.error("reporting_rebuild skips %s %s: %s", envelope["type"], envelope["id"], exc)
    return RebuildResult(replayed=replayed, applied=applied, invalid=invalid)


def _archive(*, batch_size: int) -> Iterator[dict]:
    types = Q()
    for pattern in CONSUMER.bindings:  # "orders.#" -> event_type LIKE 'orders.%'
        types |= Q(event_type__startswith=pattern.removesuffix("#"))
    rows = OutboxEvent.objects.using("default").filter(types).order_by("occurred_at", "id")
    last = None
    while True:
        after = Q() if last is None else Q(occurred_at__gt=last.occurred_at) | Q(occurred_at=last.occurred_at,
                                                                                 id__gt=last.id)
        batch = list(rows.filter(after)[:batch_size])
        for row in batch:
            yield row.envelope()
        if len(batch) < batch_size:
            return
        last = batch[-1]
