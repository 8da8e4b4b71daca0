"""Order writes: the placement saga over catalog and payments, recovery, and staff actions.

Placement is an orchestrated saga whose step is stored on the order before each call to another
module, so that a crash at any point leaves an order that `order_recover` finishes: confirmed
(stock held, payment authorized) or terminal (stock released, no authorization outstanding).
Every call to another module is idempotent per order, so running a step twice is harmless."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.catalog import api as catalog
from apps.common.http.problems import ApplicationError, PreconditionFailed
from apps.common.messaging.events import DomainEvent, event_record
from apps.common.money import money
from apps.orders import events, selectors
from apps.orders.errors import MixedCurrencies, OrderChanged, OutOfStock, RefundNotAllowed, UnknownProducts
from apps.orders.models import Order, OrderEvent, OrderLine, RefundRecord
from apps.orders.states import transition_check
from apps.payments import api as payments

Status, Step = Order.Status, Order.SagaStep
_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone


@dataclass(frozen=True)
class LineRequest:
    """A quantity of one SKU: what a customer orders, or what staff refund."""

    sku: str
    quantity: int


# ---------------------------------------------------------------- building blocks

def _number() -> str:
    return "C" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(9))


def _timeline(order: Order, *, kind: str, message: str = "", actor=None, from_status: str = "",
              to_status: str = "") -> None:
    OrderEvent.objects.create(order=order, kind=kind, message=message, actor=actor, from_status=from_status,
                              to_status=to_status, created_at=timezone.now())


def _event_fields(order: Order) -> dict:
    return {"order_id": order.id, "number": order.number, "customer_id": order.customer_id, "email": order.email,
            "phone": order.phone, "currency": order.currency, "total": money(order.total, order.currency),
            "status": order.status}


def _placed_event(order: Order) -> DomainEvent:
    lines = tuple(events.OrderLineData(sku=line.sku, name=line.name, quantity=line.quantity,
                                       unit_price=money(line.unit_price, order.currency),
                                       line_total=money(line.line_total, order.currency))
                  for line in order.lines.all())
    return events.OrderPlaced(**_event_fields(order), subtotal=money(order.subtotal, order.currency), lines=lines,
                              payment_id=order.payment_id)


def _paid_event(order: Order) -> DomainEvent:
    return events.OrderPaid(**_event_fields(order), payment_id=order.payment_id,
                            amount=money(order.total, order.currency))


def _transition(order: Order, target: str, *, actor=None, message: str = "",
                emit: Sequence[Callable[[Order], DomainEvent]] = (), **fields) -> Order:
    """Move the order to `target` if nobody changed it since it was read (compare-and-set on
    status and version), with its timeline entry and events, in one transaction."""
    transition_check(order.status, target)
    now = timezone.now()
    with transaction.atomic():
        changed = Order.objects.filter(pk=order.pk, status=order.status, version=order.version).update(
            status=target, version=F("version") + 1, updated_at=now, **fields)
        if not changed:
            raise OrderChanged()
        previous = order.status
        order.refresh_from_db()
        _timeline(order, kind=OrderEvent.Kind.STATUS, message=message, actor=actor, from_status=previous,
                  to_status=target)
        for build in emit:
            event_record(build(order))
    return order


def _saga_step(order: Order, step: str, message: str) -> None:
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(saga_step=step, updated_at=timezone.now())
        order.saga_step = step
        _timeline(order, kind=OrderEvent.Kind.SAGA, message=message)


def _stock_lines(order: Order) -> list[catalog.StockLine]:
    return [catalog.StockLine(sku=line.sku, quantity=line.quantity) for line in order.lines.all()]


def _authorize_key(order: Order) -> str:
    return f"order:{order.id}:authorize"


# ---------------------------------------------------------------- placement saga

def order_place(*, customer, lines: Sequence[LineRequest], payment_token: str, email: str, phone: str = "",
                idempotency_key: str) -> Order:
    """Place an order: price, create, reserve stock, authorize payment, confirm.

    Raises UnknownProducts / MixedCurrencies (nothing written), OutOfStock (order rejected),
    PaymentDeclined or PaymentProviderUnavailable (order payment_failed, stock released)."""
    existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if existing is not None:
        return _placement_resume(existing, payment_token)

    quantities: dict[str, int] = {}
    for line in lines:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    snapshots = catalog.price_snapshots(skus=list(quantities))
    unknown = sorted(sku for sku in quantities if sku not in snapshots or not snapshots[sku].active)
    if unknown:
        raise UnknownProducts(f"Unknown or inactive products: {', '.join(unknown)}.", extra={"skus": unknown})
    currencies = {snapshots[sku].currency for sku in quantities}
    if len(currencies) != 1:
        raise MixedCurrencies(extra={"currencies": sorted(currencies)})
    (currency,) = currencies

    priced = [(snapshots[sku], quantity, money(snapshots[sku].unit_price * quantity, currency))
              for sku, quantity in quantities.items()]
    subtotal = money(sum((total for _, _, total in priced), Decimal(0)), currency)
    now = timezone.now()
    try:
        with transaction.atomic():
            order = Order.objects.create(number=_number(), customer=customer, idempotency_key=idempotency_key,
                                         email=email, phone=phone, currency=currency, subtotal=subtotal,
                                         total=subtotal, created_at=now, updated_at=now)
            OrderLine.objects.bulk_create([
                OrderLine(order=order, sku=snap.sku, name=snap.name, unit_price=snap.unit_price, quantity=quantity,
                          line_total=line_total)
                for snap, quantity, line_total in priced
            ])
            _timeline(order, kind=OrderEvent.Kind.STATUS, to_status=Status.PENDING, actor=customer,
                      message="Order created")
    except IntegrityError:
        # The same customer and key raced past the idempotency layer: continue the one order.
        return _placement_resume(Order.objects.get(customer=customer, idempotency_key=idempotency_key),
                                 payment_token)
    return _placement_run(order, payment_token)


def _placement_resume(order: Order, payment_token: str) -> Order:
    if order.status == Status.PENDING:
        return _placement_run(order, payment_token)
    return order


def _placement_run(order: Order, payment_token: str) -> Order:
    reserved_here = order.saga_step in (Step.CREATED, Step.RESERVING)
    if reserved_here:
        _saga_step(order, Step.RESERVING, "Reserving stock")
        _reserve_or_reject(order)
        _saga_step(order, Step.AUTHORIZING, "Stock held; authorizing payment")
    if order.saga_step == Step.AUTHORIZING:
        try:
            payment = payments.payment_authorize(
                order_id=order.id, amount=money(order.total, order.currency), currency=order.currency,
                token=payment_token, idempotency_key=_authorize_key(order))
        except payments.PaymentDeclined as exc:
            _compensate(order, Status.PAYMENT_FAILED, f"Payment declined: {exc.detail}")
            _name_order(exc, order)
            raise
        except payments.PaymentProviderUnavailable as exc:
            _compensate(order, Status.PAYMENT_FAILED, f"Payment provider unavailable: {exc.detail}")
            _name_order(exc, order)
            raise
        _confirm(order, payment.payment_id, hold_fresh=reserved_here)
    return order


def _name_order(error: ApplicationError, order: Order) -> None:
    """Make the payment error say which order it left behind (payment_failed), so that the
    client need not search its orders for it."""
    error.extra.update(order_id=str(order.id), order_number=order.number)


def _reserve_or_reject(order: Order) -> None:
    ttl = timedelta(seconds=settings.ORDERS_RESERVATION_TTL_SECONDS)
    outcome = catalog.stock_reserve(order_id=order.id, lines=_stock_lines(order), ttl=ttl)
    if not outcome.reserved:
        short = sorted(outcome.short_skus)
        _compensate(order, Status.REJECTED, f"Out of stock: {', '.join(short)}")
        raise OutOfStock(f"Not enough stock for {', '.join(short)}.", extra={"skus": short})


def _confirm(order: Order, payment_id: UUID, *, hold_fresh: bool = False) -> None:
    """The hold then lasts until shipment or cancellation. When this process reserved moments
    ago (`hold_fresh`), extending every SKU's hold is enough; when a hold lapsed meanwhile (the
    payment was slow past the reservation's TTL) or the saga is resumed by recovery, reserving
    again takes the units back, or rejects the order if they are gone."""
    held = catalog.stock_hold_extend(order_id=order.id, ttl=None) if hold_fresh else 0
    if held < len(_stock_lines(order)):
        _reserve_or_reject(order)
        catalog.stock_hold_extend(order_id=order.id, ttl=None)
    fields = {"saga_step": Step.COMPLETED, "payment_id": payment_id, "confirmed_at": timezone.now()}
    emit = [_placed_event]
    if settings.ORDERS_CAPTURE_ON_PLACEMENT:
        payments.payment_capture(payment_id=payment_id, idempotency_key=f"order:{order.id}:capture")
        fields["paid_at"] = timezone.now()
        emit.append(_paid_event)
    _transition(order, Status.CONFIRMED, message="Stock held and payment authorized", emit=emit, **fields)


def _compensate(order: Order, target: str, reason: str) -> None:
    """Undo what placement did, in reverse: no authorization outstanding, stock given back,
    then the terminal status. Each undo is idempotent, so a crash here is retried safely."""
    payments.payment_cancel_for_order(order_id=order.id)
    catalog.stock_release(order_id=order.id)
    _transition(order, target, message=reason, saga_step=Step.COMPENSATED)


def order_recover(*, order_id: UUID) -> Order | None:
    """Finish a placement that stopped mid-saga (its process died). Returns the order, or None
    when it is not stuck (finished meanwhile, or another recoverer has it)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.ORDERS_SAGA_STUCK_AFTER_SECONDS)
    # Claim: only one recoverer at a time, and never an order whose placement is still moving.
    claimed = Order.objects.filter(pk=order_id, status=Status.PENDING, updated_at__lt=cutoff).update(updated_at=now)
    if not claimed:
        return None
    order = Order.objects.get(pk=order_id)
    _timeline(order, kind=OrderEvent.Kind.SAGA, message=f"Recovery from step {order.saga_step}")
    if order.saga_step in (Step.CREATED, Step.RESERVING):
        _compensate(order, Status.REJECTED, "Placement abandoned before payment")
        return order
    payment = payments.payment_for_order(order_id=order.id)
    if payment is not None and payment.status in ("authorized", "captured"):  # captured: capture at placement
        # Out of stock by now: _reserve_or_reject has compensated and the order is rejected.
        with contextlib.suppress(OutOfStock):
            _confirm(order, payment.payment_id)
        return order
    give_up = now - timedelta(seconds=settings.ORDERS_PAYMENT_UNKNOWN_GIVE_UP_SECONDS)
    if payment is not None and payment.status == "pending" and order.created_at > give_up:
        return order  # outcome unknown: payments reconciliation will learn it; try again later
    _compensate(order, Status.PAYMENT_FAILED, "Payment not authorized")
    return order


def orders_recover_stuck() -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.ORDERS_SAGA_STUCK_AFTER_SECONDS)
    stuck = Order.objects.filter(status=Status.PENDING, updated_at__lt=cutoff).values_list("pk", flat=True)[:500]
    return sum(1 for order_id in list(stuck) if order_recover(order_id=order_id) is not None)


# ---------------------------------------------------------------- staff and customer actions

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
        emit = [lambda o: events.OrderShipped(**_event_fields(o))]
        fields = {"shipped_at": timezone.now(), **_DONE}
        if order.paid_at is None:
            payments.payment_capture(payment_id=order.payment_id, idempotency_key=f"order:{order.id}:capture")
            fields["paid_at"] = timezone.now()
            emit.insert(0, _paid_event)
        catalog.stock_commit(order_id=order.id)
        return _transition(order, Status.SHIPPED, actor=actor, message="Shipped", emit=emit, **fields)
    except BaseException:
        _action_abandon(order)
        raise


def order_cancel(*, order: Order, actor, reason: str = "", expected_version: int | None = None) -> Order:
    """Cancel a confirmed order: void (or refund, if captured) the payment and give the stock back."""
    transition_check(order.status, Status.CANCELLED)
    order = _action_start(order, "cancel", expected_version)
    try:
        transition_check(order.status, Status.CANCELLED)
        if order.paid_at is not None:
            payments.payment_refund(payment_id=order.payment_id, idempotency_key=f"order:{order.id}:cancel-refund")
        else:
            payments.payment_void(payment_id=order.payment_id, idempotency_key=f"order:{order.id}:void")
        catalog.stock_release(order_id=order.id)
        reason = reason or "Cancelled"
        return _transition(order, Status.CANCELLED, actor=actor, message=reason, cancelled_at=timezone.now(),
                           emit=[lambda o: events.OrderCancelled(**_event_fields(o), reason=reason)], **_DONE)
    except BaseException:
        _action_abandon(order)
        raise


def order_refund(*, order: Order, actor, idempotency_key: str, amount: Decimal | None = None,
                 lines: Sequence[LineRequest] = (), expected_version: int | None = None) -> Order:
    """Refund a shipped order by amount or by lines (quantities of each SKU). Idempotent by
    `idempotency_key`: a second call with it refunds nothing more and returns the order."""
    if selectors.refund_made(order=order, idempotency_key=idempotency_key):
        return Order.objects.get(pk=order.pk)
    transition_check(order.status, Status.PARTIALLY_REFUNDED)
    order = _action_start(order, "refund", expected_version)
    try:
        by_sku = {line.sku: line for line in order.lines.all()}
        if lines:
            refund_quantities = {}
            for line in lines:
                line_row = by_sku.get(line.sku)
                quantity = refund_quantities.get(line.sku, 0) + line.quantity
                if line_row is None or quantity > line_row.quantity - line_row.refunded_quantity:
                    raise RefundNotAllowed(f"Cannot refund {quantity} of {line.sku} on this order.")
                refund_quantities[line.sku] = quantity
            amount = sum((by_sku[sku].unit_price * q for sku, q in refund_quantities.items()), Decimal(0))
        else:
            refund_quantities = {}
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
            for sku, quantity in refund_quantities.items():
                OrderLine.objects.filter(pk=by_sku[sku].pk).update(refunded_quantity=F("refunded_quantity") + quantity)
            return _transition(
                order, target, actor=actor, message=f"Refunded {amount} {order.currency}",
                refunded_amount=refunded_total,
                emit=[lambda o: events.OrderRefunded(**_event_fields(o), amount=amount, refunded_total=refunded_total)],
                **_DONE)
    except BaseException:
        _action_abandon(order)
        raise


def order_note_add(*, order: Order, actor, message: str) -> OrderEvent:
    event = OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.NOTE, message=message, actor=actor,
                                      created_at=timezone.now())
    return event
