"""Orders and the customer accounts they belong to (apps.accounts calls these through
apps.orders.api): guest orders join an account once its owner verified the email, and a
deleted account's orders lose the personal data they carry but stay for accounting."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.orders.models import Order, OrderEvent

ANONYMISED_NOTE = "The customer deleted their account: the order's email, phone and names were removed."
# Still to be shipped (or mid-placement): these need the customer's address and contact.
OPEN = (Order.Status.PENDING, Order.Status.CONFIRMED)
# What an anonymised order keeps of its addresses: where it went (tax and accounting), not to whom.
ADDRESS_KEPT = ("city", "region", "postal_code", "country")


def guest_orders_attach(*, email: str, customer_id: int) -> int:
    """Give the guest orders (no customer) placed with this email, whatever its case, to the
    customer. Returns how many."""
    email = email.strip()
    if not email:
        return 0
    return Order.objects.filter(customer__isnull=True, email__iexact=email).update(customer_id=customer_id)


def customer_orders_open(*, customer_id: int) -> int:
    """How many of the customer's orders are still to be shipped."""
    return Order.objects.filter(customer_id=customer_id, status__in=OPEN).count()


def customer_orders_anonymise(*, customer_id: int) -> int:
    """Remove the personal data of the customer's orders, each with a note on its timeline: email
    and phone blank, addresses cut down to city, region, postal code and country. The orders, their
    lines, amounts and history stay. Events of these orders from now on carry an empty email (their
    schemas allow it) and notify nobody. Returns how many orders changed."""
    now = timezone.now()
    with transaction.atomic():
        orders = list(Order.objects.select_for_update().filter(customer_id=customer_id)
                      .only("pk", "shipping_address", "billing_address"))
        for order in orders:
            Order.objects.filter(pk=order.pk).update(
                email="", phone="", version=F("version") + 1,
                shipping_address=_address_anonymised(order.shipping_address),
                billing_address=_address_anonymised(order.billing_address))
        OrderEvent.objects.bulk_create(OrderEvent(order_id=order.pk, kind=OrderEvent.Kind.NOTE,
                                                  message=ANONYMISED_NOTE, created_at=now) for order in orders)
    return len(orders)


def _address_anonymised(address: dict | None) -> dict | None:
    if not address:
        return address
    return {name: value for name, value in address.items() if name in ADDRESS_KEPT}
