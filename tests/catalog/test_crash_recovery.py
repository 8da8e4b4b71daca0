"""A writer dies between two writes (a real exception raised at that point, as a lost
connection would), and the sweeper repairs what it left. Nothing here is mocked but the
failure itself: the rows and counters are real, and so is the repair."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from apps.catalog import api as catalog
from apps.catalog.models import Reservation, StockAdjustment
from apps.catalog.services import adjustments, reservations
from apps.catalog.services.sweeper import reservations_sweep
from tests.catalog.factories import ProductFactory
from tests.catalog.invariants import assert_stock_consistent, stock_state

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "catalog"])

R = Reservation.Status


def crash(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def after_grace():
    """A sweep late enough that the dead writer cannot be still at work."""
    return timezone.now() + timedelta(seconds=settings.CATALOG_SETTLE_GRACE_SECONDS + 1)


def reserve(order_id, *lines):
    return catalog.stock_reserve(order_id=order_id, lines=[catalog.StockLine(sku=s, quantity=q) for s, q in lines])


def test_a_crash_after_the_reservation_row_before_the_stock_write_is_settled_by_the_sweeper(monkeypatch):
    ProductFactory(sku="LAMP", units=5)
    order_id = uuid.uuid4()
    monkeypatch.setattr(reservations, "_stock_take", crash)

    with pytest.raises(OperationalError):
        reserve(order_id, ("LAMP", 2))
    monkeypatch.undo()

    # The row exists, marked mid-write; the stock was not touched.
    row = Reservation.objects.get(order_id=order_id)
    assert (row.status, row.settling_since is not None) == (R.PENDING, True)
    assert stock_state("LAMP")["available"] == 5
    # A sweep within the grace period leaves a write that may still be running alone.
    reservations_sweep()
    assert Reservation.objects.get(order_id=order_id).status == R.PENDING

    report = reservations_sweep(now=after_grace())

    assert report.reconciled == 1
    assert Reservation.objects.get(order_id=order_id).status == R.EXPIRED
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 5
    # The order can reserve again once repaired.
    assert reserve(order_id, ("LAMP", 2)).reserved is True
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 3


def test_a_crash_after_the_stock_write_before_the_hold_gives_the_units_back_after_the_sweep(monkeypatch):
    ProductFactory(sku="LAMP", units=5)
    order_id = uuid.uuid4()
    monkeypatch.setattr(reservations, "_reservation_hold", crash)

    with pytest.raises(OperationalError):
        reserve(order_id, ("LAMP", 2))
    monkeypatch.undo()

    # The units left `available` but no hold owns them.
    assert stock_state("LAMP")["available"] == 3
    assert Reservation.objects.get(order_id=order_id).status == R.PENDING

    reservations_sweep(now=after_grace())

    assert Reservation.objects.get(order_id=order_id).status == R.EXPIRED
    state = assert_stock_consistent("LAMP", stocked=5)
    assert (state["available"], state["held"]) == (5, 0)


def test_a_crash_on_the_second_line_gives_back_the_first_and_the_sweeper_settles_the_second(monkeypatch):
    ProductFactory(sku="A-LAMP", units=5)
    ProductFactory(sku="B-MUG", units=5)
    order_id = uuid.uuid4()
    real_take = reservations._stock_take
    monkeypatch.setattr(reservations, "_stock_take",
                        lambda *, sku, **kw: crash() if sku == "B-MUG" else real_take(sku=sku, **kw))

    with pytest.raises(OperationalError):
        reserve(order_id, ("A-LAMP", 1), ("B-MUG", 1))
    monkeypatch.undo()

    assert {r.sku: r.status for r in Reservation.objects.filter(order_id=order_id)} == {
        "A-LAMP": R.RELEASED, "B-MUG": R.PENDING}
    assert assert_stock_consistent("A-LAMP", stocked=5)["available"] == 5

    reservations_sweep(now=after_grace())

    assert assert_stock_consistent("B-MUG", stocked=5)["available"] == 5


def test_a_crash_while_giving_back_a_short_call_never_gives_the_units_back_twice(monkeypatch):
    ProductFactory(sku="A-LAMP", units=5)
    ProductFactory(sku="B-MUG", units=1)
    order_id = uuid.uuid4()
    real_events = reservations._events
    # The call is short of B-MUG; the audit row of A-LAMP's give-back fails, after the units went back.
    monkeypatch.setattr(reservations, "_events", lambda rows, source, target, now, note="", **kw: (
        crash() if note.startswith("other lines short") else real_events(rows, source, target, now, note, **kw)))

    with pytest.raises(OperationalError):
        reserve(order_id, ("A-LAMP", 2), ("B-MUG", 2))
    monkeypatch.undo()

    assert Reservation.objects.get(order_id=order_id, sku="A-LAMP").status == R.RELEASED
    assert assert_stock_consistent("A-LAMP", stocked=5)["available"] == 5
    reservations_sweep(now=after_grace())
    assert assert_stock_consistent("A-LAMP", stocked=5)["available"] == 5
    assert assert_stock_consistent("B-MUG", stocked=1)["available"] == 1


def test_a_crash_between_release_and_its_stock_write_is_repaired_by_the_sweeper(monkeypatch):
    ProductFactory(sku="LAMP", units=5)
    order_id = uuid.uuid4()
    reserve(order_id, ("LAMP", 2))
    monkeypatch.setattr(reservations, "stock_apply", crash)

    with pytest.raises(OperationalError):
        catalog.stock_release(order_id=order_id)
    monkeypatch.undo()

    # Released for the order, but the units are still counted as held.
    assert Reservation.objects.get(order_id=order_id).status == R.RELEASED
    assert stock_state("LAMP")["held"] == 2
    # Releasing again does not give them back twice...
    catalog.stock_release(order_id=order_id)
    assert stock_state("LAMP")["available"] == 3

    reservations_sweep(now=after_grace())

    # ...the sweeper gives them back once.
    state = assert_stock_consistent("LAMP", stocked=5)
    assert (state["available"], state["held"]) == (5, 0)


def test_release_of_a_line_whose_reserving_writer_died_is_repaired_by_the_sweeper(monkeypatch):
    ProductFactory(sku="LAMP", units=5)
    order_id = uuid.uuid4()
    monkeypatch.setattr(reservations, "_reservation_hold", crash)
    with pytest.raises(OperationalError):
        reserve(order_id, ("LAMP", 2))
    monkeypatch.undo()

    # The order gives up (its saga compensates) while the line is still in doubt.
    catalog.stock_release(order_id=order_id)
    assert Reservation.objects.get(order_id=order_id).status == R.RELEASED

    reservations_sweep(now=after_grace())

    state = assert_stock_consistent("LAMP", stocked=5)
    assert (state["available"], state["held"]) == (5, 0)


def test_a_crash_before_an_adjustment_reaches_the_stock_voids_its_audit_row(monkeypatch):
    ProductFactory(sku="LAMP", units=5)
    monkeypatch.setattr(adjustments, "_stock_adjust_apply", crash)

    with pytest.raises(OperationalError):
        adjustments.stock_adjust(sku="LAMP", delta=7, reason="delivery", actor_name="ops")
    monkeypatch.undo()
    assert StockAdjustment.objects.get().status == StockAdjustment.Status.PENDING

    report = reservations_sweep(now=after_grace())

    assert report.adjustments_settled == 1
    assert StockAdjustment.objects.get().status == StockAdjustment.Status.VOID
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 5


def test_a_crash_after_an_adjustment_reached_the_stock_marks_its_audit_row_applied(monkeypatch):
    ProductFactory(sku="LAMP", units=5)
    real_apply = adjustments._stock_adjust_apply

    def apply_then_crash(adjustment, **kwargs):
        real_apply(adjustment, **kwargs)
        crash()

    monkeypatch.setattr(adjustments, "_stock_adjust_apply", apply_then_crash)
    with pytest.raises(OperationalError):
        adjustments.stock_adjust(sku="LAMP", delta=7, reason="delivery", actor_name="ops")
    monkeypatch.undo()
    # A later adjustment chains after it, before the sweeper runs.
    adjustments.stock_adjust(sku="LAMP", delta=-2, reason="damaged", actor_name="ops")

    reservations_sweep(now=after_grace())

    assert sorted(StockAdjustment.objects.values_list("delta", "status")) == [
        (-2, StockAdjustment.Status.APPLIED), (7, StockAdjustment.Status.APPLIED)]
    assert assert_stock_consistent("LAMP", stocked=10)["available"] == 10
