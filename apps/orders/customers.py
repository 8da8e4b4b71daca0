"""Orders and the customer accounts they belong to (apps.accounts calls these through
apps.orders.api): guest orders join an account once its owner verified the email, and a
deleted account's orders lose the personal data they carry but stay for accounting."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.orders.models import Order, OrderEvent

ANONYMISED_NOTE = "The customer deleted their account: the order's email and phone were removed."


def guest_orders_attach(*, email: str, customer_id: int) -> int:
    """Give the guest orders (no customer) placed with this email, whatever its case, to the
    customer. Returns how many."""
    email = email.strip()
    if not email:
        return 0
    return Order.objects.filter(customer__isnull=True, email__iexact=email).update(customer_id=customer_id)


def customer_orders_anonymise(*, customer_id: int) -> int:
    """Blank the email and phone of the customer's orders, each with a note on its timeline; the
    orders, their lines, amounts and history stay. Events of these orders from now on carry an
    empty email (their schemas allow it) and notify nobody. Returns how many orders changed."""
    now = timezone.now()
    with transaction.atomic():
        orders = Order.objects.select_for_update().filter(customer_id=customer_id).exclude(email="", phone="")
        ids = list(orders.values_list("pk", flat=True))
        Order.objects.filter(pk__in=ids).update(email="", phone="", version=F("version") + 1)
        OrderEvent.objects.bulk_create(OrderEvent(order_id=order_id, kind=OrderEvent.Kind.NOTE,
                                                  message=ANONYMISED_NOTE, created_at=now) for order_id in ids)
    return len(ids)
