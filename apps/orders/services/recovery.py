"""Recovery of placements whose process died mid-saga: drive them forward or compensate."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from apps.orders.errors import OutOfStock
from apps.orders.models import Order, OrderEvent
from apps.orders.services.placement import placement_compensate, placement_confirm
from apps.orders.services.transitions import timeline_add
from apps.payments import api as payments

Status, Step = Order.Status, Order.SagaStep


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
    timeline_add(order, kind=OrderEvent.Kind.SAGA, message=f"Recovery from step {order.saga_step}")
    if order.saga_step in (Step.CREATED, Step.RESERVING):
        placement_compensate(order, Status.REJECTED, "Placement abandoned before payment")
        return order
    payment = payments.payment_for_order(order_id=order.id)
    if payment is not None and payment.status in ("authorized", "captured"):  # captured: capture at placement
        # Out of stock by now: the reservation has compensated and the order is rejected.
        with contextlib.suppress(OutOfStock):
            placement_confirm(order, list(order.lines.all()), payment, timeline=[])
        return order
    give_up = now - timedelta(seconds=settings.ORDERS_PAYMENT_UNKNOWN_GIVE_UP_SECONDS)
    if payment is not None and payment.status == "pending" and order.created_at > give_up:
        return order  # outcome unknown: payments reconciliation will learn it; try again later
    placement_compensate(order, Status.PAYMENT_FAILED, "Payment not authorized")
    return order


def orders_recover_stuck() -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.ORDERS_SAGA_STUCK_AFTER_SECONDS)
    stuck = Order.objects.filter(status=Status.PENDING, updated_at__lt=cutoff).values_list("pk", flat=True)[:500]
    return sum(1 for order_id in list(stuck) if order_recover(order_id=order_id) is not None)
