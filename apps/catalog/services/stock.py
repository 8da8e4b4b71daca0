"""The SKU's stock row: created with its product, then changed only by conditional updates
(portability rule 2), each of which keeps available + held + committed == stocked."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError
from django.db.models import F

from apps.catalog.models import Stock


def stock_row_ensure(*, sku: str, now: datetime) -> Stock:
    """The SKU's stock row, created empty if missing (it is written before its product, so a
    product never exists without one; a crash in between leaves an unused, empty row)."""
    stock = Stock.objects.filter(pk=sku).first()
    if stock is not None:
        return stock
    try:
        return Stock.objects.create(product_id=sku, updated_at=now)
    except IntegrityError:
        return Stock.objects.get(pk=sku)  # created concurrently


def stock_apply(*, sku: str, effect: dict, now: datetime) -> None:
    Stock.objects.filter(pk=sku).update(**effect, version=F("version") + 1, updated_at=now)
