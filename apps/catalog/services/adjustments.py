"""Staff stock adjustments: audited, applied onto the SKU's chain of adjustments one at a time,
and settled by the sweeper when their writer died between the audit row and the stock update."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db.models import F

from apps.catalog.cache import catalog_cache_invalidate
from apps.catalog.errors import InsufficientStock, InvalidProduct, ProductNotFound, StockBusy
from apps.catalog.models import Product, Stock, StockAdjustment
from apps.catalog.services.clock import catalog_now, settle_grace
from apps.catalog.services.stock import stock_row_ensure
from apps.catalog.validation import field_error

_ADJUST_ATTEMPTS = 10
_CHAIN_WALK_LIMIT = 1000


def stock_adjust(*, sku: str, delta: int, reason: str, actor_id: str = "", actor_name: str = "",
                 adjustment_id: UUID | None = None) -> StockAdjustment:
    """Put units in (delta > 0) or take available units out (delta < 0), audited.

    `adjustment_id` makes a resubmission harmless: an adjustment with that id is returned as
    it stands instead of being applied again.

    The audit row is written first (pending); the stock change is one conditional update that
    also moves the SKU's adjustment chain head (`last_adjustment_id`) from the row's
    predecessor to the row. So whether a pending row was applied is always decidable (it is on
    the chain or not), and the sweeper can settle a row whose writer died."""
    errors = []
    if delta == 0:
        errors.append(field_error("delta", "The change must not be zero."))
    if not reason.strip():
        errors.append(field_error("reason", "Say why the stock changes.", "blank"))
    if errors:
        raise InvalidProduct(extra={"errors": errors})
    if not Product.objects.filter(pk=sku).exists():
        raise ProductNotFound(f"No product with SKU {sku}.")
    if adjustment_id is not None and (done := StockAdjustment.objects.filter(pk=adjustment_id).first()):
        return done
    now = catalog_now()
    stock = stock_row_ensure(sku=sku, now=now)
    adjustment = StockAdjustment.objects.create(
        id=adjustment_id or uuid.uuid4(), product_id=sku, delta=delta, reason=reason.strip(), actor_id=actor_id,
        actor_name=actor_name, previous_adjustment_id=stock.last_adjustment_id, created_at=now)
    for _attempt in range(_ADJUST_ATTEMPTS):
        if _stock_adjust_apply(adjustment, now=now):
            # Only adjustments change `stocked`, and the chain admits one at a time.
            after = Stock.objects.get(pk=sku)
            StockAdjustment.objects.filter(pk=adjustment.pk).update(
                status=StockAdjustment.Status.APPLIED, stocked_after=stock.stocked + delta,
                available_after=after.available)
            catalog_cache_invalidate(skus=[sku])
            return StockAdjustment.objects.get(pk=adjustment.pk)
        stock = Stock.objects.get(pk=sku)
        if stock.last_adjustment_id == adjustment.previous_adjustment_id:
            StockAdjustment.objects.filter(pk=adjustment.pk).update(status=StockAdjustment.Status.REJECTED)
            raise InsufficientStock(f"Only {stock.available} units of {sku} are available to take out.",
                                    extra={"available": stock.available})
        # Another adjustment was applied first: follow it in the chain.
        StockAdjustment.objects.filter(pk=adjustment.pk).update(previous_adjustment_id=stock.last_adjustment_id)
        adjustment.previous_adjustment_id = stock.last_adjustment_id
    StockAdjustment.objects.filter(pk=adjustment.pk).update(status=StockAdjustment.Status.REJECTED)
    raise StockBusy(f"Other adjustments of {sku} kept coming first; try again.")


def _stock_adjust_apply(adjustment: StockAdjustment, *, now: datetime) -> bool:
    """The stock write of an adjustment: only onto the chain head it follows, and never below
    zero available units."""
    conditions = {"pk": adjustment.product_id, "last_adjustment_id": adjustment.previous_adjustment_id}
    if adjustment.delta < 0:
        conditions["available__gte"] = -adjustment.delta
    delta = adjustment.delta
    return bool(Stock.objects.filter(**conditions).update(
        stocked=F("stocked") + delta, on_hand=F("on_hand") + delta, available=F("available") + delta,
        last_adjustment_id=adjustment.id, version=F("version") + 1, updated_at=now))


def _adjustment_on_chain(adjustment: StockAdjustment, head: UUID | None) -> bool:
    """Walk the SKU's chain back from its head. Adjustments created long before this one (more
    than the grace period) were applied before it could be, so the walk stops there."""
    horizon = adjustment.created_at - settle_grace()
    current, steps = head, 0
    while current is not None and steps < _CHAIN_WALK_LIMIT:
        if current == adjustment.id:
            return True
        node = StockAdjustment.objects.filter(pk=current).values("previous_adjustment_id", "created_at").first()
        if node is None or node["created_at"] < horizon:
            return False
        current, steps = node["previous_adjustment_id"], steps + 1
    return False


def stock_adjustments_settle(*, now: datetime | None = None) -> int:
    """Settle adjustments whose writer died between the audit row and the stock update."""
    now = now or catalog_now()
    stale = StockAdjustment.objects.filter(status=StockAdjustment.Status.PENDING,
                                           created_at__lt=now - settle_grace())[: settings.CATALOG_SWEEP_BATCH]
    settled = 0
    for adjustment in list(stale):
        stock = Stock.objects.filter(pk=adjustment.product_id).first()
        applied = stock is not None and _adjustment_on_chain(adjustment, stock.last_adjustment_id)
        status = StockAdjustment.Status.APPLIED if applied else StockAdjustment.Status.VOID
        settled += StockAdjustment.objects.filter(pk=adjustment.pk, status=StockAdjustment.Status.PENDING).update(
            status=status)
    return settled
