"""Catalog writes: products, stock adjustments, reservations and the sweeper that repairs them.

The catalog runs on MongoDB in production, where neither `select_for_update` nor `atomic`
protects anything, so correctness never depends on a transaction:

* Every stock change is ONE conditional update of the SKU's Stock row, e.g.
  `filter(pk=sku, available__gte=n).update(available=F("available") - n, held=F("held") + n)`;
  the row count decides. Each such update keeps available + held + committed == stocked.
* Every reservation status change is a conditional update too (`filter(status="held")`), so
  two callers racing to release (or commit, or expire) one hold change the counters once.
* A reservation row and its stock counters are two writes. The row is always written first,
  with `settling_since` set, and cleared once the counters follow. A writer that dies in
  between leaves a marked row; after CATALOG_SETTLE_GRACE_SECONDS the sweeper settles such rows
  and recomputes the SKU's counters from its reservation rows (stock_reconcile), which are the
  truth for what is held and committed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError, IntegrityError
from django.db.models import F, Sum
from django.utils import timezone

from apps.catalog.cache import catalog_cache_invalidate
from apps.catalog.errors import (
    InsufficientStock,
    InvalidProduct,
    ProductExists,
    ProductNotFound,
    ReservationMismatch,
    StockBusy,
)
from apps.catalog.inserts import rows_insert, rows_written_before
from apps.catalog.models import Category, Product, Reservation, ReservationEvent, Stock, StockAdjustment
from apps.catalog.states import stock_effect, transition_check
from apps.catalog.types import LineStanding, ReservationOutcome, StockLine
from apps.common.http.problems import Conflict, PreconditionFailed
from apps.common.money import CURRENCIES, InvalidMoney, money

logger = logging.getLogger(__name__)

SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
# Reservation ids are derived from (order, SKU): the same line can never be written twice.
RESERVATION_NAMESPACE = uuid.UUID("5a0c64d4-4a77-4f63-9a1e-1f0d3c2b7e61")
EDITABLE_FIELDS = frozenset({"name", "description", "category", "price", "currency", "active", "attributes"})
_ADJUST_ATTEMPTS = 10
_CHAIN_WALK_LIMIT = 1000
_WAIT_POLL_SECONDS = 0.02

R = Reservation.Status


def _now() -> datetime:
    """Now, at millisecond precision: what MongoDB stores, so equality filters hold on every engine."""
    now = timezone.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _grace() -> timedelta:
    return timedelta(seconds=settings.CATALOG_SETTLE_GRACE_SECONDS)


def reservation_id(*, order_id: UUID, sku: str) -> UUID:
    return uuid.uuid5(RESERVATION_NAMESPACE, f"{order_id}:{sku}")


# ---------------------------------------------------------------- products

def _field_error(field: str, message: str, code: str = "invalid") -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def _price_checked(price, currency: str, errors: list) -> Decimal | None:
    if currency not in CURRENCIES:
        errors.append(_field_error("currency", f"Unknown or unsupported currency {currency!r} (ISO 4217 code)."))
        return None
    try:
        value = money(price, currency)
    except InvalidMoney as exc:
        errors.append(_field_error("price", str(exc)))
        return None
    if value < 0:
        errors.append(_field_error("price", "The price must not be negative."))
        return None
    return value


def _category_checked(category: str | None, errors: list) -> None:
    if category is not None and not Category.objects.filter(pk=category).exists():
        errors.append(_field_error("category", f"Unknown category {category!r}.", "does_not_exist"))


def _stock_ensure(*, sku: str, now: datetime) -> Stock:
    """The SKU's stock row, created empty if missing (it is written before its product, so a
    product never exists without one; a crash in between leaves an unused, empty row)."""
    stock = Stock.objects.filter(pk=sku).first()
    if stock is not None:
        return stock
    try:
        return Stock.objects.create(product_id=sku, updated_at=now)
    except IntegrityError:
        return Stock.objects.get(pk=sku)  # created concurrently


def product_create(*, sku: str, name: str, price, currency: str, description: str = "",
                   category: str | None = None, active: bool = True, attributes: dict | None = None) -> Product:
    errors: list[dict] = []
    if not SKU_PATTERN.match(sku):
        errors.append(_field_error("sku", "Upper-case letters, digits, '.', '_' and '-' (at most 64)."))
    if not name.strip():
        errors.append(_field_error("name", "The name must not be blank.", "blank"))
    price = _price_checked(price, currency, errors)
    _category_checked(category, errors)
    if errors:
        raise InvalidProduct(extra={"errors": errors})
    if Product.objects.filter(pk=sku).exists():
        raise ProductExists(f"A product with SKU {sku} already exists.")
    now = _now()
    _stock_ensure(sku=sku, now=now)
    try:
        product = Product.objects.create(
            sku=sku, name=name.strip(), description=description, category_id=category, price=price,
            currency=currency, active=active, attributes=attributes or {}, created_at=now, updated_at=now,
        )
    except IntegrityError as exc:
        raise ProductExists(f"A product with SKU {sku} already exists.") from exc
    catalog_cache_invalidate(skus=[sku], lists=True)  # a cached 404 of this SKU goes too
    return product


def product_update(*, sku: str, changes: Mapping, expected_version: int | None = None) -> Product:
    """Change some fields. With `expected_version` (If-Match) a stale version gets 412; every
    change is a conditional update on the version it was validated against."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidProduct(extra={"errors": [_field_error(f, "This field cannot be changed.", "read_only")
                                               for f in sorted(unknown)]})
    for _attempt in range(3):
        product = Product.objects.filter(pk=sku).first()
        if product is None:
            raise ProductNotFound(f"No product with SKU {sku}.")
        if expected_version is not None and product.version != expected_version:
            raise PreconditionFailed(f"The product is at version {product.version}, not {expected_version}.")
        values = _validated_changes(product, changes)
        now = _now()
        updated = Product.objects.filter(pk=sku, version=product.version).update(
            **values, version=product.version + 1, updated_at=now)
        if updated:
            catalog_cache_invalidate(skus=[sku], lists=True)
            return Product.objects.get(pk=sku)
        if expected_version is not None:
            raise PreconditionFailed("The product was changed by another request.")
    raise Conflict("The product kept changing; try again.")


def _validated_changes(product: Product, changes: Mapping) -> dict:
    errors: list[dict] = []
    values = dict(changes)
    if "name" in values:
        values["name"] = str(values["name"]).strip()
        if not values["name"]:
            errors.append(_field_error("name", "The name must not be blank.", "blank"))
    if "price" in values or "currency" in values:
        currency = values.get("currency", product.currency)
        values["price"] = _price_checked(values.get("price", product.price), currency, errors)
    if "category" in values:
        _category_checked(values["category"], errors)
        values["category_id"] = values.pop("category")
    if "attributes" in values and not isinstance(values["attributes"], dict):
        errors.append(_field_error("attributes", "Attributes must be an object."))
    if errors:
        raise InvalidProduct(extra={"errors": errors})
    return values


def product_deactivate(*, sku: str, expected_version: int | None = None) -> Product:
    return product_update(sku=sku, changes={"active": False}, expected_version=expected_version)


def category_save(*, slug: str, name: str) -> Category:
    if Category.objects.filter(pk=slug).update(name=name):
        category = Category(slug=slug, name=name)
    else:
        category = Category.objects.create(slug=slug, name=name)
    catalog_cache_invalidate(lists=True)
    return category


def category_delete(*, slug: str) -> None:
    """Raises ProtectedError while products use the category."""
    Category.objects.filter(pk=slug).delete()
    catalog_cache_invalidate(lists=True)


# ---------------------------------------------------------------- stock adjustments (staff)

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
        errors.append(_field_error("delta", "The change must not be zero."))
    if not reason.strip():
        errors.append(_field_error("reason", "Say why the stock changes.", "blank"))
    if errors:
        raise InvalidProduct(extra={"errors": errors})
    if not Product.objects.filter(pk=sku).exists():
        raise ProductNotFound(f"No product with SKU {sku}.")
    if adjustment_id is not None and (done := StockAdjustment.objects.filter(pk=adjustment_id).first()):
        return done
    now = _now()
    stock = _stock_ensure(sku=sku, now=now)
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
    horizon = adjustment.created_at - _grace()
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
    now = now or _now()
    stale = StockAdjustment.objects.filter(status=StockAdjustment.Status.PENDING,
                                           created_at__lt=now - _grace())[: settings.CATALOG_SWEEP_BATCH]
    settled = 0
    for adjustment in list(stale):
        stock = Stock.objects.filter(pk=adjustment.product_id).first()
        applied = stock is not None and _adjustment_on_chain(adjustment, stock.last_adjustment_id)
        status = StockAdjustment.Status.APPLIED if applied else StockAdjustment.Status.VOID
        settled += StockAdjustment.objects.filter(pk=adjustment.pk, status=StockAdjustment.Status.PENDING).update(
            status=status)
    return settled


# ---------------------------------------------------------------- reservations

def _event(row: Reservation, source: str, target: str, now: datetime, note: str = "") -> None:
    _events([row], source, target, now, note)


def _events(rows: Sequence[Reservation], source: str, target: str, now: datetime, note: str = "") -> None:
    """The audit trail of a transition of one or many rows: one insert."""
    rows_insert(ReservationEvent, [ReservationEvent(
        id=uuid.uuid4(), reservation_id=row.id, order_id=row.order_id, sku=row.sku, quantity=row.quantity,
        from_status=source, to_status=target, note=note, created_at=now) for row in rows])


def _stock_apply(*, sku: str, effect: dict, now: datetime) -> None:
    Stock.objects.filter(pk=sku).update(**effect, version=F("version") + 1, updated_at=now)


def _transition(row: Reservation, source: str, target: str, *, note: str = "", **conditions) -> bool:
    """Move one reservation from `source` to `target` and apply the stock effect: once, however
    many callers race, because the status change is conditional and comes first."""
    effect = stock_effect(source, target, row.quantity)
    now = _now()
    # A transition without stock effect leaves the mark alone: a pending row's mark belongs to
    # the writer taking its units, and must stay until that writer (or the sweeper) settles.
    values = {"status": target, "updated_at": now, **({"settling_since": now} if effect else {})}
    moved = Reservation.objects.filter(pk=row.pk, status=source, **conditions).update(**values)
    if not moved:
        return False
    if effect:
        _stock_apply(sku=row.sku, effect=effect, now=now)
        Reservation.objects.filter(pk=row.pk, settling_since=now).update(settling_since=None)
    row.status = target
    _event(row, source, target, now, note)
    return True


class _Step:
    """How far one line of a reserve call got: what its clean-up must undo."""
    CLAIMED = "claimed"  # its row is pending and marked by this call; no units taken
    TAKING = "taking"  # the units are being taken: in doubt if that write failed
    TOOK = "took"  # the units were taken; the row is still pending
    HOLDING = "holding"  # the row is being moved to held: in doubt if that write failed
    HELD = "held"
    UNDONE = "undone"  # given back by this call's clean-up


@dataclass
class _Claim:
    row: Reservation
    since: datetime  # our settling_since: the token that says the pending row is ours
    step: str = _Step.CLAIMED


def _reservation_claim(*, order_id: UUID, sku: str, quantity: int, expires_at: datetime | None,
                       row: Reservation | None) -> _Claim | LineStanding:
    """First write of a line the order has a row for already (or that appeared meanwhile): the
    row, pending and marked. Returns the claim, or what stands already: KEPT (the order holds
    the line) or BUSY (another call is mid-write on it)."""
    deadline = None
    while True:
        now = _now()
        if row is None:
            row = Reservation(id=reservation_id(order_id=order_id, sku=sku), order_id=order_id, sku=sku,
                              quantity=quantity, status=R.PENDING, expires_at=expires_at, settling_since=now,
                              created_at=now, updated_at=now)
            try:
                row.save(force_insert=True)
            except IntegrityError:
                row = Reservation.objects.filter(pk=row.pk).first()  # written concurrently: look again
                continue
            _event(row, "", R.PENDING, now)
            return _Claim(row, now)
        if row.status in (R.HELD, R.COMMITTED):
            if row.quantity != quantity:
                raise ReservationMismatch(f"The order holds {row.quantity} of {sku}, not {quantity}.")
            return LineStanding.KEPT
        if row.status in (R.RELEASED, R.EXPIRED) and row.settling_since is None:
            transition_check(row.status, R.PENDING)
            retaken = Reservation.objects.filter(pk=row.pk, status=row.status, settling_since__isnull=True).update(
                status=R.PENDING, quantity=quantity, expires_at=expires_at, settling_since=now, updated_at=now)
            if retaken:
                source, row.status, row.quantity, row.expires_at = row.status, R.PENDING, quantity, expires_at
                _event(row, source, R.PENDING, now, "taken again")
                return _Claim(row, now)
        elif row.settling_since is not None and row.settling_since < now - _grace():
            return LineStanding.BUSY  # its writer died: the sweeper settles it
        else:
            # Another call is writing this line right now; its outcome is ours.
            deadline = deadline or time.monotonic() + settings.CATALOG_RESERVE_WAIT_SECONDS
            if time.monotonic() >= deadline:
                return LineStanding.BUSY
            time.sleep(_WAIT_POLL_SECONDS)
        row = Reservation.objects.filter(pk=row.pk).first()


def _claims_insert(*, order_id: UUID, wanted: Mapping[str, int], expires_at: datetime | None,
                   claims: dict[str, _Claim]) -> list[str]:
    """First write of the lines the order has no row for: all their rows in one insert, pending
    and marked, and their events in one more. Adds the claims it made to `claims`; returns the
    SKUs whose row appeared meanwhile (the same order reserving at once elsewhere), which the
    caller claims line by line."""
    now = _now()
    rows = [Reservation(id=reservation_id(order_id=order_id, sku=sku), order_id=order_id, sku=sku, quantity=quantity,
                        status=R.PENDING, expires_at=expires_at, settling_since=now, created_at=now, updated_at=now)
            for sku, quantity in sorted(wanted.items())]
    try:
        rows_insert(Reservation, rows)
    except IntegrityError as error:
        rows = rows_written_before(error, rows)  # on MongoDB, the rows before the duplicate: ours
    _events(rows, "", R.PENDING, now)
    claims.update({row.sku: _Claim(row, now) for row in rows})
    return sorted(set(wanted) - {row.sku for row in rows})


def _stock_take(*, sku: str, quantity: int, now: datetime) -> bool:
    """Second write: the units, if available. The row count decides; nothing is read first."""
    return bool(Stock.objects.filter(pk=sku, available__gte=quantity).update(
        available=F("available") - quantity, held=F("held") + quantity, version=F("version") + 1, updated_at=now))


def _reservation_hold(claims: Sequence[_Claim]) -> list[_Claim]:
    """Third write: pending -> held for every line at once, each only if nobody released it
    meanwhile. Returns the claims that were not held (their units are still taken)."""
    transition_check(R.PENDING, R.HELD)
    now = _now()
    by_mark: dict[datetime, list[_Claim]] = {}
    for claim in claims:
        by_mark.setdefault(claim.since, []).append(claim)  # one mark per call, but for lines taken again
    held = sum(Reservation.objects.filter(pk__in=[claim.row.pk for claim in group], status=R.PENDING,
                                          settling_since=since).update(
        status=R.HELD, settling_since=None, updated_at=now) for since, group in by_mark.items())
    missed: list[_Claim] = []
    if held < len(claims):
        # The hold clears the mark with the status, so a row that still carries ours was not held.
        marks = dict(Reservation.objects.filter(pk__in=[claim.row.pk for claim in claims])
                     .values_list("pk", "settling_since"))
        missed = [claim for claim in claims if marks.get(claim.row.pk) == claim.since]
    held_rows = [claim.row for claim in claims if claim not in missed]
    for row in held_rows:
        row.status = R.HELD
    _events(held_rows, R.PENDING, R.HELD, now)
    return missed


def _claim_drop(claim: _Claim, *, took_units: bool, note: str) -> None:
    """Our pending line does not become held: give back what we took, release the row."""
    now = _now()
    if took_units:
        _stock_apply(sku=claim.row.sku, effect={"available": F("available") + claim.row.quantity,
                                                 "held": F("held") - claim.row.quantity}, now=now)
    released = Reservation.objects.filter(pk=claim.row.pk, status=R.PENDING, settling_since=claim.since).update(
        status=R.RELEASED, settling_since=None, updated_at=now)
    if released:
        _event(claim.row, R.PENDING, R.RELEASED, now, note)
    else:  # released (or expired) by someone else meanwhile: only our mark remains to clear
        Reservation.objects.filter(pk=claim.row.pk, settling_since=claim.since).update(settling_since=None)


def _claim_undo(claim: _Claim, note: str) -> None:
    """Leave nothing of the line held by this call: undone as far as it got, and only once."""
    step, claim.step = claim.step, _Step.UNDONE  # a failure below is the sweeper's to repair
    if step in (_Step.CLAIMED, _Step.TOOK):
        _claim_drop(claim, took_units=step == _Step.TOOK, note=note)
    elif step in (_Step.HOLDING, _Step.HELD):
        # Held or not, the release is conditional on held: it gives the units back once, and
        # a row still pending is settled by the sweeper.
        _transition(claim.row, R.HELD, R.RELEASED, note=note)
    # TAKING: whether the units were taken is unknown; the sweeper recomputes them.


def _quantities(lines: Iterable[StockLine]) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for line in lines:
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
            raise ValueError(f"Quantity of {line.sku} must be a positive integer, not {line.quantity!r}.")
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    return wanted


def _claims_make(*, order_id: UUID, wanted: Mapping[str, int], expires_at: datetime | None,
                 claims: dict[str, _Claim], short: list[str]) -> None:
    """First write of every line: adds this call's claims to `claims` and the lines another call
    is writing to `short`. Lines the order holds already are neither."""
    ids = [reservation_id(order_id=order_id, sku=sku) for sku in wanted]
    existing = {row.sku: row for row in Reservation.objects.filter(pk__in=ids).order_by()}
    fresh = {sku: quantity for sku, quantity in wanted.items() if sku not in existing}
    one_by_one = [(sku, existing[sku]) for sku in sorted(existing)]
    if fresh:
        one_by_one += [(sku, None) for sku in _claims_insert(order_id=order_id, wanted=fresh,
                                                             expires_at=expires_at, claims=claims)]
    for sku, row in one_by_one:
        claim = _reservation_claim(order_id=order_id, sku=sku, quantity=wanted[sku], expires_at=expires_at, row=row)
        if isinstance(claim, _Claim):
            claims[sku] = claim
        elif claim is LineStanding.BUSY:
            short.append(sku)


def stock_reserve(*, order_id: UUID, lines: Sequence[StockLine], ttl: timedelta | None) -> ReservationOutcome:
    """Hold every line for the order, or none that this call took (see apps.catalog.api).

    The writes that decide nothing are batched, so an order costs one conditional stock update
    per SKU (portability rule 2) and a fixed number of statements besides: the read of what the
    order holds, the rows in one insert, their events in one, the holds in one update and their
    events in one more."""
    wanted = _quantities(lines)
    expires_at = None if ttl is None else _now() + ttl
    claims: dict[str, _Claim] = {}
    short: list[str] = []
    try:
        _claims_make(order_id=order_id, wanted=wanted, expires_at=expires_at, claims=claims, short=short)
        for sku in sorted(claims):
            claim = claims[sku]
            claim.step = _Step.TAKING
            took = _stock_take(sku=sku, quantity=claim.row.quantity, now=claim.since)
            claim.step = _Step.TOOK if took else _Step.CLAIMED
            if not took:
                short.append(sku)
        if claims and not short:
            for claim in claims.values():
                claim.step = _Step.HOLDING
            missed = _reservation_hold(list(claims.values()))
            for claim in claims.values():
                claim.step = _Step.TOOK if claim in missed else _Step.HELD
            short += [claim.row.sku for claim in missed]
        if short:
            short.sort()
            for sku in sorted(claims):
                note = "not enough stock" if sku in short else f"other lines short: {', '.join(short)}"
                _claim_undo(claims[sku], note)
    except BaseException:
        # The caller gets the error, not an outcome: leave nothing of this call held.
        for claim in claims.values():
            with contextlib.suppress(DatabaseError):
                _claim_undo(claim, "reservation failed")
        raise
    finally:
        catalog_cache_invalidate(skus=sorted(sku for sku, claim in claims.items() if claim.step != _Step.CLAIMED))
    return ReservationOutcome(order_id=order_id, reserved=not short, short_skus=tuple(short))


def stock_hold_extend(*, order_id: UUID, ttl: timedelta | None) -> int:
    expires_at = None if ttl is None else _now() + ttl
    return Reservation.objects.filter(order_id=order_id, status__in=[R.HELD, R.PENDING]).update(
        expires_at=expires_at, updated_at=_now())


def stock_commit(*, order_id: UUID) -> None:
    changed = [row.sku for row in Reservation.objects.filter(order_id=order_id, status=R.HELD).order_by()
               if _transition(row, R.HELD, R.COMMITTED, note="shipped")]
    catalog_cache_invalidate(skus=changed)


def stock_release(*, order_id: UUID) -> None:
    changed = []
    for row in Reservation.objects.filter(order_id=order_id, status__in=[R.HELD, R.PENDING]).order_by():
        if row.status == R.HELD:
            if _transition(row, R.HELD, R.RELEASED, note="released by the order"):
                changed.append(row.sku)
        else:
            # Mid-write (or its writer died): its writer gives back what it took when it sees
            # the release; if it died, the sweeper recomputes the counters.
            _transition(row, R.PENDING, R.RELEASED, note="released while being reserved")
    catalog_cache_invalidate(skus=changed)


# ---------------------------------------------------------------- the sweeper

def reservations_expire(*, now: datetime | None = None) -> list[str]:
    """Give back the units of holds past `expires_at`. Returns the SKUs given back."""
    now = now or _now()
    due = Reservation.objects.filter(status=R.HELD, expires_at__lt=now).order_by("expires_at")
    return [row.sku for row in list(due[: settings.CATALOG_SWEEP_BATCH])
            if _transition(row, R.HELD, R.EXPIRED, note="hold expired", expires_at__lt=now)]


def stock_reconcile(*, sku: str, now: datetime | None = None) -> bool:
    """Recompute the SKU's counters from its reservation rows, once no write is in flight on
    it, and clear the marks of abandoned writes. True when the counters agree with the rows.

    Order matters: the stock row is read before the rows and written only if its version did
    not move (any counter change bumps it); a write that began after the rows were read is
    still marked when they are checked again, so nothing in flight is ever counted twice."""
    now = now or _now()
    cutoff = now - _grace()
    for row in Reservation.objects.filter(sku=sku, status=R.PENDING, settling_since__lt=cutoff):
        # Its writer died before the line was held: whatever it took is recomputed below.
        _transition(row, R.PENDING, R.EXPIRED, note="abandoned while being reserved",
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
    now = now or _now()
    expired = reservations_expire(now=now)
    stale_skus = set(Reservation.objects.filter(settling_since__lt=now - _grace())
                     .values_list("sku", flat=True)[: settings.CATALOG_SWEEP_BATCH])
    reconciled = [sku for sku in sorted(stale_skus) if stock_reconcile(sku=sku, now=now)]
    adjustments = stock_adjustments_settle(now=now)
    catalog_cache_invalidate(skus={*expired, *reconciled})
    return SweepReport(expired=len(expired), reconciled=len(reconciled), adjustments_settled=adjustments)


# ---------------------------------------------------------------- demo data

@dataclass(frozen=True)
class SeedReport:
    categories: int  # created by this run
    products: int  # created by this run


def _existing_pks(model, pks: list[str], chunk: int = 500) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(pks), chunk):
        found.update(model.objects.filter(pk__in=pks[start:start + chunk]).values_list("pk", flat=True))
    return found


def catalog_seed(*, products: int) -> SeedReport:
    """Demo products DEMO-000001..N with categories and stock (audited as adjustments).
    Idempotent: what exists is kept; bulk inserts only of what is missing (no ignore_conflicts,
    which MongoDB does not support)."""
    from apps.catalog.demo import CATEGORIES, demo_product, demo_sku

    now = _now()
    have_categories = set(Category.objects.values_list("pk", flat=True))
    categories = [Category(slug=slug, name=name) for slug, name in CATEGORIES.items() if slug not in have_categories]
    Category.objects.bulk_create(categories)

    skus = [demo_sku(index) for index in range(1, products + 1)]
    have_products, have_stock = _existing_pks(Product, skus), _existing_pks(Stock, skus)
    new_products, new_stock, new_adjustments = [], [], []
    for index, sku in enumerate(skus, start=1):
        if sku in have_products:
            continue
        demo = demo_product(index)
        new_products.append(Product(
            sku=sku, name=demo.name, description=demo.description, category_id=demo.category, price=demo.price,
            currency=demo.currency, attributes=demo.attributes, created_at=now, updated_at=now))
        if sku in have_stock:
            continue
        adjustment_id = uuid.uuid4() if demo.units else None
        new_stock.append(Stock(product_id=sku, stocked=demo.units, on_hand=demo.units, available=demo.units,
                               last_adjustment_id=adjustment_id, updated_at=now))
        if adjustment_id:
            new_adjustments.append(StockAdjustment(
                id=adjustment_id, product_id=sku, delta=demo.units, reason="Initial demo stock",
                actor_name="catalog_seed", status=StockAdjustment.Status.APPLIED, stocked_after=demo.units,
                available_after=demo.units, created_at=now))
    # Audit rows, then stock, then products: a product never exists without its stock row.
    StockAdjustment.objects.bulk_create(new_adjustments, batch_size=1000)
    Stock.objects.bulk_create(new_stock, batch_size=1000)
    Product.objects.bulk_create(new_products, batch_size=1000)
    if new_products or categories:
        catalog_cache_invalidate(skus=[product.sku for product in new_products], lists=True)
    return SeedReport(categories=len(categories), products=len(new_products))
