"""The only module other apps may import from apps.orders (besides events.py).

Functions here take and return primitives or frozen dataclasses, never models or querysets:
the caller may live on another database."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from apps.orders.customers import customer_orders_anonymise, guest_orders_attach
from apps.orders.models import Order

__all__ = ["customer_orders_anonymise", "guest_orders_attach", "order_id_by_number", "order_numbers"]


def order_numbers(*, order_ids: Iterable[UUID]) -> dict[UUID, str]:
    """The number of each of these orders that exists, by id."""
    # Straight from the model: selectors imports apps.payments.api, which payments must not reach.
    return dict(Order.objects.filter(pk__in=list(order_ids)).values_list("id", "number"))


def order_id_by_number(*, number: str) -> UUID | None:
    return Order.objects.filter(number=number).values_list("id", flat=True).first()
