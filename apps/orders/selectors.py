"""Order reads. Customers see only their own orders; staff with orders.view_order see every order."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from apps.common.http.problems import NotFound
from apps.orders.models import Order, RefundRecord
from apps.payments import api as payments


def order_list(*, user, status: str | None = None, customer_id: int | None = None) -> QuerySet[Order]:
    sees_all = user.has_perm("orders.view_order")
    orders = Order.objects.all() if sees_all else Order.objects.filter(customer=user)
    if status:
        orders = orders.filter(status=status)
    if customer_id is not None and sees_all:
        orders = orders.filter(customer_id=customer_id)
    return orders


def order_get(*, user, order_id: UUID | str) -> Order:
    """The order, if this user may see it; otherwise 404, whether it exists or not."""
    try:
        return order_list(user=user).prefetch_related("lines", "timeline__actor").get(pk=order_id)
    except (Order.DoesNotExist, ValueError) as exc:
        raise NotFound("No such order.") from exc


def order_payment(*, order: Order) -> payments.PaymentInfo | None:
    return payments.payment_for_order(order_id=order.id)


def refund_made(*, order: Order, idempotency_key: str) -> bool:
    """Whether the order already made the refund that this key names."""
    return RefundRecord.objects.filter(order=order, idempotency_key=idempotency_key).exists()
