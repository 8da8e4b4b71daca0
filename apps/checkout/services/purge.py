"""Expired carts go: open carts untouched for CHECKOUT_CART_TTL_HOURS, and merged guest carts
once the same time has passed since the merge."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.checkout.models import Cart, CartLine

PURGEABLE = (Cart.Status.OPEN, Cart.Status.CLOSED)


def carts_purge(*, now: datetime | None = None, batch: int | None = None) -> int:
    """Delete up to `batch` expired carts with their lines; returns how many. A cart being
    written right now is locked: it is skipped, and its write pushes its expiry back anyway."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(Cart.objects.select_for_update(skip_locked=True)
                   .filter(status__in=PURGEABLE, expires_at__lte=now)
                   .values_list("pk", flat=True)[: batch or settings.CHECKOUT_PURGE_BATCH])
        CartLine.objects.filter(cart_id__in=ids).delete()
        deleted, _ = Cart.objects.filter(pk__in=ids).delete()
    return deleted
