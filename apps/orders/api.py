"""The only module other apps may import from apps.orders (besides events.py).

Functions here take and return primitives or frozen dataclasses, never models or querysets:
the caller may live on another database."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from apps.orders.customers import customer_orders_anonymise, customer_orders_open, guest_orders_attach
from apps.orders.errors import CartAlreadyOrdered, OrderTotalMismatch, OutOfStock
from apps.orders.models import Order
from apps.orders.serializers import order_detail_data
from apps.orders.services.placement import FAILED, Placement, cart_order_key, order_place_from_cart
from apps.orders.types import CartSnapshot, PlacedOrder, PlacementState, SnapshotLine
from apps.payments import api as payments
from apps.payments.api import PaymentDeclined, PaymentProviderUnavailable

__all__ = [
    "CartAlreadyOrdered",
    "CartSnapshot",
    "OrderTotalMismatch",
    "OutOfStock",
    "PaymentDeclined",
    "PaymentProviderUnavailable",
    "PlacedOrder",
    "PlacementState",
    "SnapshotLine",
    "cart_order",
    "cart_order_place",
    "customer_orders_anonymise",
    "customer_orders_open",
    "guest_orders_attach",
    "order_id_by_number",
    "order_numbers",
]


def cart_order_place(*, customer_id: int | None, snapshot: CartSnapshot, payment_token: str, email: str,
                     phone: str = "", idempotency_key: str) -> PlacedOrder:
    """Place the order of a cart's completion through the placement saga; see
    apps.orders.services.placement.order_place_from_cart. Raises OutOfStock (409, naming the SKUs;
    the order is rejected and nothing stays held), apps.pricing.api.VoucherError (422, e.g.
    voucher_exhausted: a code's use could not be taken; the order is rejected, nothing held),
    PaymentDeclined (402) or PaymentProviderUnavailable (503) (the order is payment_failed, its
    stock and voucher uses given back), OrderTotalMismatch (422, nothing written),
    CartAlreadyOrdered (409)."""
    placement = order_place_from_cart(customer_id=customer_id, snapshot=snapshot, payment_token=payment_token,
                                      email=email, phone=phone, idempotency_key=idempotency_key)
    return _placed(placement)


def cart_order(*, cart_id: UUID, idempotency_key: str | None = None) -> PlacedOrder | None:
    """The order the cart was completed into (the one of its orders that did not fail); else,
    given a completion's Idempotency-Key, the order that attempt left (rejected or
    payment_failed); else None: the cart placed no order (with that key)."""
    orders = Order.objects.filter(cart_id=cart_id).prefetch_related("lines", "timeline__actor")
    order = orders.exclude(status__in=FAILED).first()
    if order is None and idempotency_key is not None:
        order = orders.filter(idempotency_key=cart_order_key(cart_id, idempotency_key)).first()
    if order is None:
        return None
    return _placed_order(order, order_detail_data(order, lines=order.lines.all(), timeline=order.timeline.all(),
                                                  payment=payments.payment_for_order(order_id=order.id)))


def _placed(placement: Placement) -> PlacedOrder:
    order = placement.order
    return _placed_order(order, order_detail_data(order, lines=placement.lines, timeline=placement.timeline,
                                                  payment=placement.payment))


def _placed_order(order: Order, detail: dict) -> PlacedOrder:
    if order.status == Order.Status.PENDING:
        state = PlacementState.PENDING
    elif order.status in FAILED:
        state = PlacementState.FAILED
    else:
        state = PlacementState.PLACED
    return PlacedOrder(order_id=order.id, number=order.number, status=order.status, state=state,
                       version=order.version, detail=detail)


def order_numbers(*, order_ids: Iterable[UUID]) -> dict[UUID, str]:
    """The number of each of these orders that exists, by id."""
    # Straight from the model: selectors imports apps.payments.api, which payments must not reach.
    return dict(Order.objects.filter(pk__in=list(order_ids)).values_list("id", "number"))


def order_id_by_number(*, number: str) -> UUID | None:
    return Order.objects.filter(number=number).values_list("id", flat=True).first()
