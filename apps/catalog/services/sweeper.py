"""The sweeper: give back expired holds, repair what dead writers left (recomputing a SKU's
counters from its reservation rows, which are the truth for what is held and committed) and
settle abandoned stock adjustments."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Sum

from apps.catalog.cache import catalog_cache_invalidate
from apps.catalog.models import Reservation, Stock
from apps.catalog.services.adjustments import stock_adjustments_settle
from apps.catalog.services.clock import catalog_now, settle_grace
from apps.catalog.services.reservations import reservation_transition

logger = logging.getLogger(__name__)

R = Reservation.Status


def reservations_expire(*, now: datetime | None = None) -> list[str]:
    """Give back the units of holds past `expires_at`. Returns the SKUs given back."""
    now = now or catalog_now()
    due = Reservation.objects.filter(status=R.HELD, expires_at__lt=now).order_by("expires_at")
    return [row.sku for row in list(due[: settings.CATALOG_SWEEP_BATCH])
            if reservation_transition(row, R.HELD, R.EXPIRED, note="hold expired", expires_at__lt=now)]


def stock_reconcile(*, sku: str, now: datetime | None = None) -> bool:
    """Recompute the SKU's counters from its reservation rows, once no write is in flight on
    it, and clear the marks of abandoned writes. True when the counters agree with the rows.

    Order matters: the stock row is read before the rows and written only if its version did
    not move (any counter change bumps it); a write that began after the rows were read is
    still marked when they are checked again, so nothing in flight is ever counted twice."""
    now = now or catalog_now()
    cutoff = now - settle_grace()
    for row in Reservation.objects.filter(sku=sku, status=R.PENDING, settling_since__lt=cutoff):
        # Its writer died before the line was held: whatever it took is recomputed below.
        reservation_transition(row, R.PENDING, R.EXPIRED, note="abandoned while being reserved",
                               settling_since=row.settling_since)
    stock = Stock.objects.filter(pk=sku).first()
    if stock is None:
        logger.error("reservations of %s have no stock row", sku)
        return False
    held = Reservation.objects.filter(sku=sku, status=R.HELD).aggregate(n=Sum("quantity", default=0))["n"]
    committed = Reservation.objects.filter(sku=sku, status=R.COMMITTED).aggregate(n=Sum("quantity", default=0))["n"]
    if Reservation.objects.filter(sku=sku, settling_since__gte=cutoff).exists():
        return False  # a write is in flight: the next sweep looks again
    available = stock.stocked - held - committed
    if available < 0:
        logger.error("stock of %s cannot be reconciled: %s stocked, %s held, %s committed",
                     sku, stock.stocked, held, committed)
        return False
    target = {"available": available, "held": held, "committed": committed, "on_hand": available + held}
    if any(getattr(stock, name) != value for name, value in target.items()):
        if not Stock.objects.filter(pk=sku, version=stock.version).update(
                **target, version=stock.version + 1, updated_at=now):
            return False  # changed meanwhile: the next sweep looks again
        logger.warning("stock of %s recomputed from its reservations: %s",
                       sku, {name: (getattr(stock, name), value) for name, value in target.items()})
    Reservation.objects.filter(sku=sku, settling_since__lt=cutoff).update(settling_since=None)
    return True


@dataclass(frozen=True)
class SweepReport:
    expired: int  # holds past expires_at given back
    reconciled: int  # SKUs whose abandoned writes were settled
    adjustments_settled: int


def reservations_sweep(*, now: datetime | None = None) -> SweepReport:
    """The periodic task: expire holds, repair what dead writers left, settle adjustments."""
    now = now or catalog_now()
    expired = reservations_expire(now=now)
    stale_skus = set(Reservation.objects.filter(settling_since__lt=now - settle_grace())
                     .values_list("sku", flat=True)[: settings.CATALOG_SWEEP_BATCH])
    reconciled = [sku for sku in sorted(stale_skus) if stock_reconcile(sku=sku, now=now)]
    adjustments = stock_adjustments_settle(now=now)
    catalog_cache_invalidate(skus={*expired, *reconciled})
    return SweepReport(expired=len(expired), reconciled=len(reconciled), adjustments_settled=adjustments)
