"""The placement saga: price, create, reserve stock and voucher uses, authorize payment,
confirm; or compensate.

The saga's step is stored on the order before each call to another module (the first with the
order itself, created at `reserving`), so that a crash at any point leaves an order that
recovery finishes: confirmed (stock held, payment authorized) or terminal (stock released, no
authorization outstanding). Every call to another module is idempotent per order, so running a
step twice is harmless.

What costs statements and decides nothing is batched: a step is one UPDATE, and its timeline
entry is written with the order's next transition, in the same insert; nothing is read before
an insert that a unique constraint decides (the customer's key, a cart's completion key)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.catalog import api as catalog
from apps.common.http.problems import ApplicationError
from apps.common.messaging.events import DomainEvent
from apps.common.money import money
from apps.orders import events
from apps.orders.breakdown import (
    discount_lines_json,
    line_paid,
    line_total,
    percent,
    snapshot_check,
    tax_lines_json,
)
from apps.orders.errors import CartAlreadyOrdered, MixedCurrencies, OutOfStock, UnknownProducts
from apps.orders.models import Order, OrderEvent, OrderLine
from apps.orders.services.transitions import order_event_fields, order_paid_event, order_transition
from apps.orders.types import CartSnapshot, LineRequest, SnapshotLine
from apps.payments import api as payments
from apps.pricing import api as pricing

Status, Step = Order.Status, Order.SagaStep
_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone


@dataclass(frozen=True)
class Placement:
    """A placed order with the lines, timeline and payment that placing it wrote and learned:
    enough to answer the request without reading the order back."""

    order: Order
    lines: tuple[OrderLine, ...]
    timeline: tuple[OrderEvent, ...]
    payment: payments.PaymentInfo | None


def _number() -> str:
    return "C" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(9))


def _placed_event(order: Order, lines: Sequence[OrderLine]) -> DomainEvent:
    currency = order.currency
    line_data = tuple(events.OrderLineData(sku=line.sku, name=line.name, quantity=line.quantity,
                                           unit_price=money(line.unit_price, currency),
                                           line_total=money(line.line_total, currency), tax_class=line.tax_class,
                                           tax_rate=percent(line.tax_rate),
                                           discount=money(line.discount_total, currency),
                                           tax=money(line.tax_total, currency), total=money(line.total, currency))
                      for line in lines)
    return events.OrderPlaced(**order_event_fields(order), lines=line_data, payment_id=order.payment_id)


def _saga_step(order: Order, step: str, message: str) -> OrderEvent:
    """Store the step (one statement, before the call it announces); returns its timeline entry,
    not written yet: the order's next transition writes it in the same insert as its own. Should
    the process die first, the step is stored and recovery's entry names it."""
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(saga_step=step, updated_at=now)
    order.saga_step = step
    return _saga_entry(order, message, now)


def _saga_entry(order: Order, message: str, now) -> OrderEvent:
    return OrderEvent(order=order, kind=OrderEvent.Kind.SAGA, message=message, created_at=now)


def _reserving_message(order: Order) -> str:
    return "Reserving voucher uses and stock" if order.voucher_codes else "Reserving stock"


def _stock_lines(lines: Sequence[OrderLine]) -> list[catalog.StockLine]:
    return [catalog.StockLine(sku=line.sku, quantity=line.quantity) for line in lines]


def _authorize_key(order: Order) -> str:
    return f"order:{order.id}:authorize"


def order_place(*, customer, lines: Sequence[LineRequest], payment_token: str, email: str, phone: str = "",
                idempotency_key: str) -> Placement:
    """Place an order server to server (POST /api/v1/orders/): price the lines from the catalog,
    create, reserve stock, authorize payment, confirm. Nothing is shipped: the total is the
    subtotal.

    Raises UnknownProducts / MixedCurrencies (nothing written), OutOfStock (order rejected),
    PaymentDeclined or PaymentProviderUnavailable (order payment_failed, stock released)."""
    # No read first: the unique (customer, key) says whether the order exists (the insert fails).
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

    priced = [SnapshotLine(sku=sku, name=snapshots[sku].name, unit_price=snapshots[sku].unit_price,
                           quantity=quantity) for sku, quantity in quantities.items()]
    subtotal = _subtotal(priced, currency)
    try:
        order, order_lines, created = _order_create(
            priced, customer_id=customer.pk, actor=customer, idempotency_key=idempotency_key, email=email,
            phone=phone, currency=currency, subtotal=subtotal, total=subtotal)
    except IntegrityError:
        # Placed before with this key (a retry after a crash, or a race past the idempotency
        # layer): continue the one order.
        return _placement_resume(Order.objects.get(customer=customer, idempotency_key=idempotency_key),
                                 payment_token)
    timeline = list(created)
    payment = _placement_run(order, order_lines, payment_token, timeline)
    return Placement(order=order, lines=tuple(order_lines), timeline=tuple(timeline), payment=payment)


def order_place_from_cart(*, customer_id: int | None, snapshot: CartSnapshot, payment_token: str, email: str,
                          phone: str = "", idempotency_key: str) -> Placement:
    """Place the order a cart's completion asks for (apps.checkout): its lines at the prices the
    cart showed, both addresses, the shipping method and price, the totals breakdown; then the
    same saga as every order (reserve, authorize, confirm; or compensate). A guest order has no
    customer.

    The order freezes the cart's pricing: each line's tax and share of the discounts, the tax
    and discount lines, the voucher codes (one use of each is taken before payment, given back
    if the placement fails) and the customer's tax id.

    Idempotent per cart and key: the same call again continues or returns the one order. Raises
    OrderTotalMismatch when the snapshot's figures do not add up (nothing written),
    CartAlreadyOrdered when another completion of the cart placed an order that did not fail,
    a pricing VoucherError (422, e.g. voucher_exhausted: the order is rejected, nothing held),
    then as order_place: OutOfStock, PaymentDeclined, PaymentProviderUnavailable."""
    key = cart_order_key(snapshot.cart_id, idempotency_key)
    currency = snapshot.currency
    snapshot_check(snapshot)
    try:
        order, order_lines, created = _order_create(
            snapshot.lines, customer_id=customer_id, actor=None, idempotency_key=key, email=email, phone=phone,
            currency=currency, subtotal=_subtotal(snapshot.lines, currency), total=money(snapshot.total, currency),
            shipping_total=money(snapshot.shipping_total, currency),
            discount_total=money(snapshot.discount_total, currency), tax_total=money(snapshot.tax_total, currency),
            prices_include_tax=snapshot.prices_include_tax, tax_lines=tax_lines_json(snapshot.tax_lines),
            discount_lines=discount_lines_json(snapshot.discount_lines), voucher_codes=list(snapshot.voucher_codes),
            tax_id=snapshot.tax_id, zero_rated=snapshot.zero_rated, cart_id=snapshot.cart_id,
            shipping_address=dict(snapshot.shipping_address), billing_address=dict(snapshot.billing_address),
            shipping_method=snapshot.shipping_method, shipping_method_id=snapshot.shipping_method_id)
    except IntegrityError:
        # Placed before with this key (order_cart_key_uniq: continue or answer that order), or
        # another completion of this cart placed an order that is still alive (order_cart_uniq).
        same = Order.objects.filter(cart_id=snapshot.cart_id, idempotency_key=key).first()
        if same is not None:
            return _placement_resume(same, payment_token)
        live = Order.objects.filter(cart_id=snapshot.cart_id).exclude(status__in=FAILED).first()
        raise CartAlreadyOrdered(extra={"cart_id": str(snapshot.cart_id),
                                        "order_id": str(live.id) if live else None}) from None
    timeline = list(created)
    payment = _placement_run(order, order_lines, payment_token, timeline)
    return Placement(order=order, lines=tuple(order_lines), timeline=tuple(timeline), payment=payment)


FAILED = (Status.REJECTED, Status.PAYMENT_FAILED)  # placements that failed: their cart may try again


def cart_order_key(cart_id: UUID, idempotency_key: str) -> str:
    """The order's idempotency key for a cart's completion: never the same as a key the customer
    used on POST /api/v1/orders/ (unique per customer and key)."""
    key = f"cart:{cart_id}:{idempotency_key}"
    if len(key) > Order._meta.get_field("idempotency_key").max_length:
        key = f"cart:{cart_id}:sha256:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
    return key


def _subtotal(lines: Sequence[SnapshotLine], currency: str) -> Decimal:
    return money(sum((line_total(line, currency) for line in lines), Decimal(0)), currency)


def _order_create(lines: Sequence[SnapshotLine], *, customer_id: int | None, actor, idempotency_key: str,
                  email: str, phone: str, currency: str, subtotal: Decimal, total: Decimal,
                  **fields) -> tuple[Order, list[OrderLine], list[OrderEvent]]:
    """The pending order with its line snapshots and first timeline entries, in one transaction,
    at the saga's first step (reserving: the next call is the reservation). Raises
    IntegrityError when a unique constraint (customer and key, cart) says it exists."""
    now = timezone.now()
    with transaction.atomic():
        order = Order.objects.create(number=_number(), customer_id=customer_id, idempotency_key=idempotency_key,
                                     email=email, phone=phone, currency=currency, subtotal=subtotal, total=total,
                                     saga_step=Step.RESERVING, created_at=now, updated_at=now, **fields)
        order_lines = OrderLine.objects.bulk_create([
            OrderLine(order=order, sku=line.sku, name=line.name, unit_price=line.unit_price, quantity=line.quantity,
                      line_total=line_total(line, currency), tax_class=line.tax_class, tax_rate=line.tax_rate,
                      discount_total=money(line.discount, currency), tax_total=money(line.tax, currency),
                      total=line_paid(line, currency))
            for line in lines
        ])
        if actor is None and customer_id is not None:
            actor = order.customer
        message = "Order created" if fields.get("cart_id") is None else "Order created from cart"
        created = OrderEvent.objects.bulk_create([
            OrderEvent(order=order, kind=OrderEvent.Kind.STATUS, to_status=Status.PENDING, actor=actor,
                       message=message, created_at=now),
            _saga_entry(order, _reserving_message(order), now)])
    return order, order_lines, created


def _placement_resume(order: Order, payment_token: str) -> Placement:
    """A placement begun before (the same customer and key): run what is left of it, then read
    back what it holds, since this call wrote only part of it."""
    if order.status == Status.PENDING:
        _placement_run(order, list(order.lines.all()), payment_token, [], begun=False)
    return Placement(order=order, lines=tuple(order.lines.all()),
                     timeline=tuple(order.timeline.select_related("actor")),
                     payment=payments.payment_for_order(order_id=order.id))


def _placement_run(order: Order, lines: Sequence[OrderLine], payment_token: str, timeline: list[OrderEvent], *,
                   begun: bool = True) -> payments.PaymentInfo | None:
    """Drive the saga from its stored step (`begun`: the order was created at it moments ago).
    Appends the timeline entries it writes to `timeline`; returns the payment as the saga left
    it (None when no step was left to run)."""
    reserved_here = order.saga_step in (Step.CREATED, Step.RESERVING)
    later: list[OrderEvent] = []  # saga entries, written with the order's next transition
    if reserved_here:
        if not begun:
            later.append(_saga_step(order, Step.RESERVING, _reserving_message(order)))
        _vouchers_reserve_or_reject(order, later, first=begun)
        _reserve_or_reject(order, lines, later)
        later.append(_saga_step(order, Step.AUTHORIZING, "Stock held; authorizing payment"))
    if order.saga_step != Step.AUTHORIZING:
        return None
    try:
        payment = payments.payment_authorize(
            order_id=order.id, amount=money(order.total, order.currency), currency=order.currency,
            token=payment_token, idempotency_key=_authorize_key(order))
    except payments.PaymentDeclined as exc:
        placement_compensate(order, Status.PAYMENT_FAILED, f"Payment declined: {exc.detail}", earlier=later)
        _name_order(exc, order)
        raise
    except payments.PaymentProviderUnavailable as exc:
        placement_compensate(order, Status.PAYMENT_FAILED, f"Payment provider unavailable: {exc.detail}",
                             earlier=later)
        _name_order(exc, order)
        raise
    return placement_confirm(order, lines, payment, timeline=timeline, hold_fresh=reserved_here, earlier=later)


def _name_order(error: ApplicationError, order: Order) -> None:
    """Make the payment error say which order it left behind (payment_failed), so that the
    client need not search its orders for it."""
    error.extra.update(order_id=str(order.id), order_number=order.number)


def _vouchers_reserve_or_reject(order: Order, earlier: Sequence[OrderEvent], *, first: bool) -> None:
    """One use of each of the order's codes, idempotent per order, before any money moves. A code
    with no use left (or past its end, or over the customer's limit) rejects the order: 422
    with the voucher's code, nothing held."""
    if not order.voucher_codes:
        return
    try:
        pricing.voucher_uses_reserve(codes=order.voucher_codes, order_id=order.id, customer_id=order.customer_id,
                                     email=order.email, first=first)
    except pricing.VoucherError as exc:
        code = exc.extra.get("voucher_code", "")
        placement_compensate(order, Status.REJECTED, f"Voucher {code}: {exc.detail}", earlier=earlier)
        _name_order(exc, order)
        raise


def _reserve_or_reject(order: Order, lines: Sequence[OrderLine], earlier: Sequence[OrderEvent] = ()) -> None:
    ttl = timedelta(seconds=settings.ORDERS_RESERVATION_TTL_SECONDS)
    outcome = catalog.stock_reserve(order_id=order.id, lines=_stock_lines(lines), ttl=ttl)
    if not outcome.reserved:
        short = sorted(outcome.short_skus)
        placement_compensate(order, Status.REJECTED, f"Out of stock: {', '.join(short)}", earlier=earlier)
        raise OutOfStock(f"Not enough stock for {', '.join(short)}.", extra={"skus": short})


def placement_confirm(order: Order, lines: Sequence[OrderLine], payment: payments.PaymentInfo, *,
                      timeline: list[OrderEvent], hold_fresh: bool = False,
                      earlier: Sequence[OrderEvent] = ()) -> payments.PaymentInfo:
    """Confirm an order whose payment is authorized; returns the payment as it leaves it.

    The hold then lasts until shipment or cancellation. When this process reserved moments ago
    (`hold_fresh`), extending every SKU's hold is enough; when a hold lapsed meanwhile (the
    payment was slow past the reservation's TTL) or the saga is resumed by recovery, reserving
    again takes the units back, or rejects the order if they are gone."""
    held = catalog.stock_hold_extend(order_id=order.id, ttl=None) if hold_fresh else 0
    if held < len(lines):
        _reserve_or_reject(order, lines, earlier)
        catalog.stock_hold_extend(order_id=order.id, ttl=None)
    if order.voucher_codes:
        pricing.voucher_use_confirm(order_id=order.id)
    payment_id = payment.payment_id
    fields = {"saga_step": Step.COMPLETED, "payment_id": payment_id, "confirmed_at": timezone.now()}
    emit = [lambda o: _placed_event(o, lines)]
    if settings.ORDERS_CAPTURE_ON_PLACEMENT:
        payment = payments.payment_capture(payment_id=payment_id, idempotency_key=f"order:{order.id}:capture")
        fields["paid_at"] = timezone.now()
        emit.append(order_paid_event)
    confirmed = order_transition(order, Status.CONFIRMED, message="Stock held and payment authorized", emit=emit,
                                 earlier=earlier, **fields)
    timeline += [*earlier, confirmed]
    return payment


def placement_compensate(order: Order, target: str, reason: str, *, earlier: Sequence[OrderEvent] = ()) -> None:
    """Undo what placement did, in reverse: no authorization outstanding, stock and voucher uses
    given back, then the terminal status. Each undo is idempotent (a voucher use comes back
    once however often this runs), so a crash here is retried safely."""
    payments.payment_cancel_for_order(order_id=order.id)
    catalog.stock_release(order_id=order.id)
    if order.voucher_codes:
        pricing.voucher_use_release(order_id=order.id)
    order_transition(order, target, message=reason, saga_step=Step.COMPENSATED, earlier=earlier)
