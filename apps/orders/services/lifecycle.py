"""Staff and customer actions on a placed order: ship, cancel, refund, notes. Each runs under
the order's action lock, so two actions at once never both reach the payment provider."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.catalog import api as catalog
from apps.common.http.problems import PreconditionFailed
from apps.common.money import money
from apps.orders import events, selectors
from apps.orders.errors import OrderChanged, RefundNotAllowed
from apps.orders.models import Order, OrderEvent, OrderLine, RefundRecord
from apps.orders.services.transitions import order_event_fields, order_paid_event, order_transition, timeline_add
from apps.orders.states import transition_check
from apps.orders.types import LineRequest
from apps.payments import api as payments
from apps.pricing import api as pricing

Status = Order.Status


def _action_start(order: Order, action: str, expected_version: int | None) -> Order:
    """Start one action on the order (its action lock, by optimistic concurrency): a concurrent
    action, or a request holding an old version (If-Match), is refused before any side effect.
    ("Claim" is a notification delivery's lease; this is the order's action lock.)"""
    if expected_version is not None and expected_version != order.version:
        raise PreconditionFailed(f"The order is at version {order.version}, not {expected_version}.")
    now = timezone.now()
    stale = now - timedelta(seconds=settings.ORDERS_ACTION_CLAIM_SECONDS)
    started = (Order.objects.filter(pk=order.pk, version=order.version)
               .filter(Q(action="") | Q(action_started_at__lt=stale))
               .update(action=action, action_started_at=now, version=F("version") + 1, updated_at=now))
    if not started:
        raise OrderChanged()
    order.refresh_from_db()
    return order


def _action_abandon(order: Order) -> None:
    Order.objects.filter(pk=order.pk, version=order.version, action=order.action).update(
        action="", action_started_at=None)


_DONE = {"action": "", "action_started_at": None}


def order_ship(*, order: Order, actor, expected_version: int | None = None) -> Order:
    """Ship: capture the payment, commit the stock, then mark shipped."""
    transition_check(order.status, Status.SHIPPED)
    order = _action_start(order, "ship", expected_version)
    try:
        transition_check(order.status, Status.SHIPPED)
        emit = [lambda o: events.OrderShipped(**order_event_fields(o))]
        fields = {"shipped_at": timezone.now(), **_DONE}
        if order.paid_at is None:
            payments.payment_capture(payment_id=order.payment_id, idempotency_key=f"order:{order.id}:capture")
            fields["paid_at"] = timezone.now()
            emit.insert(0, order_paid_event)
        catalog.stock_commit(order_id=order.id)
        order_transition(order, Status.SHIPPED, actor=actor, message="Shipped", emit=emit, **fields)
        return order
    except BaseException:
        _action_abandon(order)
        raise


def order_cancel(*, order: Order, actor, reason: str = "", expected_version: int | None = None) -> Order:
    """Cancel a confirmed order: void (or refund, if captured) the payment, give the stock back and
    the voucher uses it took (once: a second cancellation is refused before, and release is
    idempotent besides)."""
    transition_check(order.status, Status.CANCELLED)
    order = _action_start(order, "cancel", expected_version)
    try:
        transition_check(order.status, Status.CANCELLED)
        if order.paid_at is not None:
            payments.payment_refund(payment_id=order.payment_id, idempotency_key=f"order:{order.id}:cancel-refund")
        else:
            payments.payment_void(payment_id=order.payment_id, idempotency_key=f"order:{order.id}:void")
        catalog.stock_release(order_id=order.id)
        if order.voucher_codes:
            pricing.voucher_use_release(order_id=order.id)
        reason = reason or "Cancelled"
        order_transition(order, Status.CANCELLED, actor=actor, message=reason, cancelled_at=timezone.now(),
                         emit=[lambda o: events.OrderCancelled(**order_event_fields(o), reason=reason)], **_DONE)
        return order
    except BaseException:
        _action_abandon(order)
        raise


def _line_refunds(order: Order, lines: Sequence[LineRequest]) -> dict[str, tuple[OrderLine, int, pricing.LineRefund]]:
    """SKU -> (line, units, what refunding them gives back): the units' price less their share
    of the discounts, plus their tax (apps.pricing.api.line_refund on the frozen line)."""
    by_sku = {line.sku: line for line in order.lines.all()}
    quantities: dict[str, int] = {}
    for line in lines:
        row = by_sku.get(line.sku)
        quantity = quantities.get(line.sku, 0) + line.quantity
        if row is None or quantity > row.quantity - row.refunded_quantity:
            raise RefundNotAllowed(f"Cannot refund {quantity} of {line.sku} on this order.")
        quantities[line.sku] = quantity
    return {sku: (by_sku[sku], quantity, pricing.line_refund(
        gross=by_sku[sku].total, tax=by_sku[sku].tax_total, discount=by_sku[sku].discount_total,
        quantity=by_sku[sku].quantity, refunded_quantity=by_sku[sku].refunded_quantity, refund_quantity=quantity,
        currency=order.currency)) for sku, quantity in quantities.items()}


def order_refund(*, order: Order, actor, idempotency_key: str, amount: Decimal | None = None,
                 lines: Sequence[LineRequest] = (), expected_version: int | None = None) -> Order:
    """Refund a shipped order by amount or by lines (quantities of each SKU). A line's units give
    back what was paid for them: their price less their share of the discounts, plus their tax;
    the last unit of a line gives back what is left of it, so a line refunded in any steps gives
    back exactly what it cost. Idempotent by `idempotency_key`: a second call with it refunds
    nothing more and returns the order."""
    if selectors.refund_made(order=order, idempotency_key=idempotency_key):
        return Order.objects.get(pk=order.pk)
    transition_check(order.status, Status.PARTIALLY_REFUNDED)
    order = _action_start(order, "refund", expected_version)
    try:
        refunds = _line_refunds(order, lines) if lines else {}
        if lines:
            amount = sum((refund.amount for _line, _units, refund in refunds.values()), Decimal(0))
        amount = money(amount, order.currency)
        remaining = money(order.total - order.refunded_amount, order.currency)
        if amount <= 0 or amount > remaining:
            raise RefundNotAllowed(f"Refund {amount} {order.currency}: between 0 and {remaining} can be refunded.")
        target = Status.REFUNDED if amount == remaining else Status.PARTIALLY_REFUNDED
        transition_check(order.status, target)
        payments.payment_refund(payment_id=order.payment_id, amount=amount,
                                idempotency_key=f"order:{order.id}:refund:{idempotency_key}")
        refunded_total = money(order.refunded_amount + amount, order.currency)
        with transaction.atomic():
            RefundRecord.objects.create(order=order, idempotency_key=idempotency_key, amount=amount,
                                        created_at=timezone.now())
            for line, units, refund in refunds.values():
                # Conditional on the units the refund was computed from (the action lock keeps other
                # refunds out; should one slip in, this refund is undone and its key may be retried).
                changed = OrderLine.objects.filter(pk=line.pk, refunded_quantity=line.refunded_quantity).update(
                    refunded_quantity=F("refunded_quantity") + units,
                    refunded_amount=F("refunded_amount") + refund.amount,
                    refunded_tax=F("refunded_tax") + refund.tax,
                    refunded_discount=F("refunded_discount") + refund.discount)
                if not changed:
                    raise OrderChanged()
            refunded_lines = tuple(
                events.OrderRefundLineData(sku=sku, quantity=units, amount=money(refund.amount, order.currency),
                                           tax=money(refund.tax, order.currency),
                                           discount=money(refund.discount, order.currency))
                for sku, (_line, units, refund) in refunds.items())
            order_transition(
                order, target, actor=actor, message=f"Refunded {amount} {order.currency}",
                refunded_amount=refunded_total,
                emit=[lambda o: events.OrderRefunded(**order_event_fields(o), amount=amount,
                                                     refunded_total=refunded_total, lines=refunded_lines)],
                **_DONE)
            return order
    except BaseException:
        _action_abandon(order)
        raise


def order_note_add(*, order: Order, actor, message: str) -> OrderEvent:
    return timeline_add(order, kind=OrderEvent.Kind.NOTE, message=message, actor=actor)
