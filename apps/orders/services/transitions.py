"""The writes every order service shares: a status transition (compare-and-set, with its
timeline entry and events, in one transaction) and the fields every order event carries."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.common.messaging.events import DomainEvent, event_record
from apps.common.money import money
from apps.orders import events
from apps.orders.errors import OrderChanged
from apps.orders.models import Order, OrderEvent
from apps.orders.states import transition_check


def timeline_add(order: Order, *, kind: str, message: str = "", actor=None, from_status: str = "",
                 to_status: str = "") -> OrderEvent:
    return OrderEvent.objects.create(order=order, kind=kind, message=message, actor=actor, from_status=from_status,
                                     to_status=to_status, created_at=timezone.now())


def order_event_fields(order: Order) -> dict:
    """What every order event carries (schemas/events/orders.*.v2.json)."""
    currency = order.currency
    return {"order_id": order.id, "number": order.number, "customer_id": order.customer_id, "email": order.email,
            "phone": order.phone, "currency": currency, "subtotal": money(order.subtotal, currency),
            "shipping_total": money(order.shipping_total, currency),
            "discount_total": money(order.discount_total, currency), "tax_total": money(order.tax_total, currency),
            "total": money(order.total, currency), "status": order.status,
            "shipping_method": order.shipping_method, "shipping_method_id": order.shipping_method_id,
            "shipping_address": order.shipping_address, "billing_address": order.billing_address,
            "prices_include_tax": order.prices_include_tax, "tax_lines": order.tax_lines,
            "discount_lines": order.discount_lines, "voucher_codes": order.voucher_codes,
            "zero_rated": order.zero_rated}


def order_paid_event(order: Order) -> DomainEvent:
    return events.OrderPaid(**order_event_fields(order), payment_id=order.payment_id,
                            amount=money(order.total, order.currency))


def order_transition(order: Order, target: str, *, actor=None, message: str = "",
                     emit: Sequence[Callable[[Order], DomainEvent]] = (), earlier: Sequence[OrderEvent] = (),
                     **fields) -> OrderEvent:
    """Move the order to `target` if nobody changed it since it was read (compare-and-set on
    status and version), with its timeline entry and events, in one transaction. `earlier` are
    timeline entries not written yet (saga steps), written in the same insert before this one.
    `order` is updated in place; returns the timeline entry.

    The order is not read back: the compare-and-set also names the customer, the one column
    changed without a new version (a guest order joining the account that verifies its email),
    so the row written is the one in hand. If only the customer changed, it is read again and
    the transition retried."""
    transition_check(order.status, target)
    now = timezone.now()
    with transaction.atomic():
        changed = _order_swap(order, target, now, fields)
        if not changed:
            current = Order.objects.filter(pk=order.pk).values("status", "version", "customer_id").first()
            if current is None or (current["status"], current["version"]) != (order.status, order.version):
                raise OrderChanged()
            order.customer_id = current["customer_id"]
            if not _order_swap(order, target, now, fields):
                raise OrderChanged()
        previous = order.status
        order.status, order.version, order.updated_at = target, order.version + 1, now
        for name, value in fields.items():
            setattr(order, name, value)
        entry = OrderEvent(order=order, kind=OrderEvent.Kind.STATUS, message=message, actor=actor,
                           from_status=previous, to_status=target, created_at=now)
        OrderEvent.objects.bulk_create([*earlier, entry])
        for build in emit:
            event_record(build(order))
    return entry


def _order_swap(order: Order, target: str, now, fields: dict) -> int:
    return Order.objects.filter(pk=order.pk, status=order.status, version=order.version,
                                customer_id=order.customer_id).update(
        status=target, version=F("version") + 1, updated_at=now, **fields)
