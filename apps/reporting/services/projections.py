"""The projections: how each order and payment event changes the read model. Every change is
order-independent (earliest and latest times, refunds keyed by event id, cumulative amounts
that only grow, statuses derived by precedence), so events may arrive in any order."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal
from uuid import UUID

from apps.common.messaging.consumers import InvalidEvent, ReceivedEvent
from apps.common.money import InvalidMoney, money
from apps.reporting import selectors
from apps.reporting.models import DailySales, OrderDiscount, OrderRefund, OrderReport, PaymentReport


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
        number, customer = str(data["number"]), data["customer_id"]
        customer_id = None if customer is None else int(customer)  # None: a guest order (version 2)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"Bad order data in {event.type} {event.id}: {exc}") from exc
    total = _amount(data, "total", currency)
    report, _ = OrderReport.objects.select_for_update().get_or_create(
        pk=order_id, defaults={"number": number, "customer_id": customer_id, "currency": currency,
                               "total": total, "last_event_at": event.occurred_at})
    # Every order event carries the order's identity and total, which never change; from version
    # 2 on also its shipping price, discount and tax (version 1 orders had none: the default 0 is right).
    report.number, report.customer_id, report.currency = number, customer_id, currency
    report.total = total if report.total is None else report.total
    if event.version >= 2:
        report.shipping_total = _amount(data, "shipping_total", currency)
        report.discount_total = _amount(data, "discount_total", currency)
        report.tax_total = _amount(data, "tax_total", currency)
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
    _discounts_record(report, event.data.get("discount_lines") or ())  # absent before issue #18
    return set()


def _discounts_record(report: OrderReport, discount_lines) -> None:
    """One row per promotion the order got; a cancellation seen before this event marks them too."""
    for line in discount_lines:
        try:
            promotion_id = int(line["promotion_id"])
            fields = {"order_id": report.order_id, "promotion_id": promotion_id,
                      "promotion_name": str(line["promotion_name"])[:100],
                      "voucher_code": str(line.get("voucher_code") or ""), "currency": report.currency,
                      "amount": _amount(line, "amount", report.currency), "placed_on": report.placed_on,
                      "cancelled": report.cancelled_at is not None}
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidEvent(f"Bad discount line in order {report.order_id}: {exc}") from exc
        OrderDiscount.objects.update_or_create(key=OrderDiscount.key_for(report.order_id, promotion_id),
                                               defaults=fields)


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
    OrderDiscount.objects.filter(order_id=report.order_id).update(cancelled=True)
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
        row.shipping = orders["shipping"] if orders else Decimal(0)
        row.discount = orders["discount"] if orders else Decimal(0)
        row.tax = orders["tax"] if orders else Decimal(0)
        row.refunds = refunds["refunds"] if refunds else Decimal(0)
        row.net = row.gross - row.refunds
        row.save(update_fields=["orders", "gross", "shipping", "discount", "tax", "refunds", "net"])


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


_ORDER_CHANGES: dict[str, Callable[[OrderReport, ReceivedEvent], Days]] = {
    "orders.order_placed": _placed,
    "orders.order_paid": _paid,
    "orders.order_shipped": _shipped,
    "orders.order_cancelled": _cancelled,
    "orders.order_refunded": _refunded,
}

# Order events come in version 1 (before shipping, issue #17) and 2: queues and the archive hold both.
PROJECTIONS: dict[tuple[str, int], Callable[[ReceivedEvent], None]] = {
    **{(event_type, version): functools.partial(_order_apply, change=change)
       for event_type, change in _ORDER_CHANGES.items() for version in (1, 2)},
    **{(event_type, 1): _payment_apply for event_type in _PAYMENT_TYPE_STATUS},
}
