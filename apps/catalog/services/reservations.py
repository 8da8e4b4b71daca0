"""The reservation protocol: hold every line of an order or none, extend, commit and release the
holds. Every status change of a reservation is a conditional update, and its row is written
before the stock counters, marked (`settling_since`) until they follow: a writer that dies in
between leaves a marked row that the sweeper settles."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError, IntegrityError
from django.db.models import F

from apps.catalog.cache import catalog_cache_invalidate
from apps.catalog.errors import ReservationMismatch
from apps.catalog.inserts import rows_insert, rows_written_before
from apps.catalog.models import Reservation, ReservationEvent, Stock
from apps.catalog.services.clock import catalog_now, settle_grace
from apps.catalog.services.stock import stock_apply
from apps.catalog.states import stock_effect, transition_check
from apps.catalog.types import LineStanding, ReservationOutcome, StockLine

# Reservation ids are derived from (order, SKU): the same line can never be written twice.
RESERVATION_NAMESPACE = uuid.UUID("5a0c64d4-4a77-4f63-9a1e-1f0d3c2b7e61")
_WAIT_POLL_SECONDS = 0.02

R = Reservation.Status


def reservation_id(*, order_id: UUID, sku: str) -> UUID:
    return uuid.uuid5(RESERVATION_NAMESPACE, f"{order_id}:{sku}")


def _event(row: Reservation, source: str, target: str, now: datetime, note: str = "") -> None:
    _events([row], source, target, now, note)


def _events(rows: Sequence[Reservation], source: str, target: str, now: datetime, note: str = "",
            earlier: Sequence[ReservationEvent] = ()) -> None:
    """The audit trail of a transition of one or many rows, after `earlier` events not written
    yet: one insert."""
    rows_insert(ReservationEvent, [*earlier, *(_event_row(row, source, target, now, note) for row in rows)])


def _event_row(row: Reservation, source: str, target: str, now: datetime, note: str = "") -> ReservationEvent:
    return ReservationEvent(id=uuid.uuid4(), reservation_id=row.id, order_id=row.order_id, sku=row.sku,
                            quantity=row.quantity, from_status=source, to_status=target, note=note, created_at=now)


def reservation_transition(row: Reservation, source: str, target: str, *, note: str = "", **conditions) -> bool:
    """Move one reservation from `source` to `target` and apply the stock effect: once, however
    many callers race, because the status change is conditional and comes first."""
    effect = stock_effect(source, target, row.quantity)
    now = catalog_now()
    # A transition without stock effect leaves the mark alone: a pending row's mark belongs to
    # the writer taking its units, and must stay until that writer (or the sweeper) settles.
    values = {"status": target, "updated_at": now, **({"settling_since": now} if effect else {})}
    moved = Reservation.objects.filter(pk=row.pk, status=source, **conditions).update(**values)
    if not moved:
        return False
    if effect:
        stock_apply(sku=row.sku, effect=effect, now=now)
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
    announced: bool = True  # False: the row's creation event is still to be written

    def announcement(self) -> list[ReservationEvent]:
        """The creation event if it is still to be written (once)."""
        if self.announced:
            return []
        self.announced = True
        return [_event_row(self.row, "", R.PENDING, self.since)]


def _reservation_claim(*, order_id: UUID, sku: str, quantity: int, expires_at: datetime | None,
                       row: Reservation | None) -> _Claim | LineStanding:
    """First write of a line the order has a row for already (or that appeared meanwhile): the
    row, pending and marked. Returns the claim, or what stands already: KEPT (the order holds
    the line) or BUSY (another call is mid-write on it)."""
    deadline = None
    while True:
        now = catalog_now()
        if row is None:
            row = Reservation(id=reservation_id(order_id=order_id, sku=sku), order_id=order_id, sku=sku,
                              quantity=quantity, status=R.PENDING, expires_at=expires_at, settling_since=now,
                              created_at=now, updated_at=now)
            try:
                rows_insert(Reservation, [row])
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
        elif row.settling_since is not None and row.settling_since < now - settle_grace():
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
    and marked. Their creation events are written with the rows' next events (held, or given
    back), in the same insert. Adds the claims it made to `claims`; returns the SKUs whose row
    exists (the order reserved before, or is reserving at once elsewhere), which the caller
    claims line by line."""
    now = catalog_now()
    rows = [Reservation(id=reservation_id(order_id=order_id, sku=sku), order_id=order_id, sku=sku, quantity=quantity,
                        status=R.PENDING, expires_at=expires_at, settling_since=now, created_at=now, updated_at=now)
            for sku, quantity in sorted(wanted.items())]
    try:
        rows_insert(Reservation, rows)
    except IntegrityError as error:
        rows = rows_written_before(error, rows)  # on MongoDB, the rows before the duplicate: ours
    claims.update({row.sku: _Claim(row, now, announced=False) for row in rows})
    return sorted(set(wanted) - {row.sku for row in rows})


def _stock_take(*, sku: str, quantity: int, now: datetime) -> bool:
    """Second write: the units, if available. The row count decides; nothing is read first."""
    return bool(Stock.objects.filter(pk=sku, available__gte=quantity).update(
        available=F("available") - quantity, held=F("held") + quantity, version=F("version") + 1, updated_at=now))


def _reservation_hold(claims: Sequence[_Claim]) -> list[_Claim]:
    """Third write: pending -> held for every line at once, each only if nobody released it
    meanwhile. Returns the claims that were not held (their units are still taken)."""
    transition_check(R.PENDING, R.HELD)
    now = catalog_now()
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
    held = [claim for claim in claims if claim not in missed]
    for claim in held:
        claim.row.status = R.HELD
    _events([claim.row for claim in held], R.PENDING, R.HELD, now,
            earlier=[event for claim in held for event in claim.announcement()])
    return missed


def _claim_drop(claim: _Claim, *, took_units: bool, note: str) -> None:
    """Our pending line does not become held: give back what we took, release the row."""
    now = catalog_now()
    if took_units:
        stock_apply(sku=claim.row.sku, effect={"available": F("available") + claim.row.quantity,
                                                 "held": F("held") - claim.row.quantity}, now=now)
    released = Reservation.objects.filter(pk=claim.row.pk, status=R.PENDING, settling_since=claim.since).update(
        status=R.RELEASED, settling_since=None, updated_at=now)
    if released:
        _events([claim.row], R.PENDING, R.RELEASED, now, note, earlier=claim.announcement())
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
        reservation_transition(claim.row, R.HELD, R.RELEASED, note=note)
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
    is writing to `short`. Lines the order holds already are neither. Nothing is read first: an
    order's first reservation inserts its rows at once, and only lines whose row exists (a
    retry, recovery) are looked at one by one."""
    for sku in _claims_insert(order_id=order_id, wanted=wanted, expires_at=expires_at, claims=claims):
        claim = _reservation_claim(order_id=order_id, sku=sku, quantity=wanted[sku], expires_at=expires_at, row=None)
        if isinstance(claim, _Claim):
            claims[sku] = claim
        elif claim is LineStanding.BUSY:
            short.append(sku)


def stock_reserve(*, order_id: UUID, lines: Sequence[StockLine], ttl: timedelta | None) -> ReservationOutcome:
    """Hold every line for the order, or none that this call took (see apps.catalog.api).

    The writes that decide nothing are batched, so an order costs one conditional stock update
    per SKU (portability rule 2) and three statements besides: the rows in one insert, the holds
    in one update and all their events (created, held) in one more."""
    wanted = _quantities(lines)
    expires_at = None if ttl is None else catalog_now() + ttl
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
        # Rows that neither became held nor were given back by this call: their creation events.
        with contextlib.suppress(DatabaseError):
            _events([], "", "", catalog_now(), earlier=[event for claim in claims.values()
                                                        for event in claim.announcement()])
        catalog_cache_invalidate(skus=sorted(sku for sku, claim in claims.items() if claim.step != _Step.CLAIMED))
    return ReservationOutcome(order_id=order_id, reserved=not short, short_skus=tuple(short))


def stock_hold_extend(*, order_id: UUID, ttl: timedelta | None) -> int:
    expires_at = None if ttl is None else catalog_now() + ttl
    return Reservation.objects.filter(order_id=order_id, status__in=[R.HELD, R.PENDING]).update(
        expires_at=expires_at, updated_at=catalog_now())


def stock_commit(*, order_id: UUID) -> None:
    changed = [row.sku for row in Reservation.objects.filter(order_id=order_id, status=R.HELD).order_by()
               if reservation_transition(row, R.HELD, R.COMMITTED, note="shipped")]
    catalog_cache_invalidate(skus=changed)


def stock_release(*, order_id: UUID) -> None:
    changed = []
    for row in Reservation.objects.filter(order_id=order_id, status__in=[R.HELD, R.PENDING]).order_by():
        if row.status == R.HELD:
            if reservation_transition(row, R.HELD, R.RELEASED, note="released by the order"):
                changed.append(row.sku)
        else:
            # Mid-write (or its writer died): its writer gives back what it took when it sees
            # the release; if it died, the sweeper recomputes the counters.
            reservation_transition(row, R.PENDING, R.RELEASED, note="released while being reserved")
    catalog_cache_invalidate(skus=changed)
