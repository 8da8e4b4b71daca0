"""The contract other modules use (apps.catalog.api): price snapshots and stock reservations."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.catalog import api as catalog
from apps.catalog.errors import ReservationMismatch
from apps.catalog.models import Reservation, ReservationEvent
from apps.catalog.services import reservations
from apps.catalog.services.sweeper import reservations_sweep
from apps.catalog.tasks import reservations_sweep_task
from tests.catalog.factories import ProductFactory
from tests.catalog.invariants import assert_stock_consistent, stock_state

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])

R = Reservation.Status


def line(sku, quantity):
    return catalog.StockLine(sku=sku, quantity=quantity)


def statuses(order_id):
    return {row.sku: row.status for row in Reservation.objects.filter(order_id=order_id)}


def test_price_snapshots_give_current_prices_at_currency_precision_and_omit_unknown_skus():
    ProductFactory(sku="LAMP", name="Desk Lamp", price=Decimal("19.990"), currency="EUR")
    ProductFactory(sku="TEA", name="Green Tea", price=Decimal("1500"), currency="JPY", active=False)

    snapshots = catalog.price_snapshots(skus=["LAMP", "TEA", "NOPE", "LAMP"])

    assert snapshots == {
        "LAMP": catalog.PriceSnapshot(sku="LAMP", name="Desk Lamp", unit_price=Decimal("19.99"), currency="EUR",
                                      active=True),
        "TEA": catalog.PriceSnapshot(sku="TEA", name="Green Tea", unit_price=Decimal("1500"), currency="JPY",
                                     active=False),
    }
    assert str(snapshots["LAMP"].unit_price) == "19.99"


def test_reserve_holds_every_line_for_the_order():
    ProductFactory(sku="LAMP", units=5)
    ProductFactory(sku="MUG", units=3)
    order_id = uuid.uuid4()

    outcome = catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2), line("MUG", 3)])

    assert outcome == catalog.ReservationOutcome(order_id=order_id, reserved=True, short_skus=())
    assert statuses(order_id) == {"LAMP": R.HELD, "MUG": R.HELD}
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 3
    assert assert_stock_consistent("MUG", stocked=3)["available"] == 0


@pytest.mark.django_db(transaction=True, databases=["default", "catalog"])  # autocommit, as in production
def test_each_more_line_costs_one_conditional_stock_update_and_nothing_else():
    """The writes that decide nothing (rows, holds, their events) are batched per order, and no
    transaction is opened for them (BEGIN and COMMIT are round trips too)."""
    skus = ["A-LAMP", "B-MUG", "C-TEA", "D-PEN"]
    for sku in skus:
        ProductFactory(sku=sku, units=5)
    statements = {}
    for count in (1, 2, 4):
        with CaptureQueriesContext(connections["catalog"]) as captured:
            outcome = catalog.stock_reserve(order_id=uuid.uuid4(), lines=[line(sku, 1) for sku in skus[:count]])
        assert outcome.reserved is True
        statements[count] = [query["sql"] for query in captured.captured_queries]

    assert {count: len(sql) for count, sql in statements.items()} == {1: 4, 2: 5, 4: 7}
    stock_updates = [sql for sql in statements[4] if sql.startswith('UPDATE "catalog_stock"')]
    assert len(stock_updates) == 4
    # Three orders took A, two took B, one each C and D.
    assert {sku: assert_stock_consistent(sku, stocked=5)["available"] for sku in skus} == {
        "A-LAMP": 2, "B-MUG": 3, "C-TEA": 4, "D-PEN": 4}


def test_reserving_twice_for_the_same_order_takes_the_units_once():
    ProductFactory(sku="LAMP", units=5)
    order_id = uuid.uuid4()
    catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2)])

    again = catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 1), line("LAMP", 1)])

    assert again.reserved is True
    assert Reservation.objects.filter(order_id=order_id).count() == 1
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 3


def test_a_short_line_gives_back_what_the_same_call_took():
    ProductFactory(sku="LAMP", units=5)
    ProductFactory(sku="MUG", units=1)
    order_id = uuid.uuid4()

    outcome = catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2), line("MUG", 2), line("GHOST", 1)])

    assert outcome.reserved is False
    assert outcome.short_skus == ("GHOST", "MUG")
    assert statuses(order_id) == {"LAMP": R.RELEASED, "MUG": R.RELEASED, "GHOST": R.RELEASED}
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 5
    assert assert_stock_consistent("MUG", stocked=1)["available"] == 1


@pytest.mark.parametrize("released", [["MUG"], ["LAMP", "MUG"]])
def test_lines_released_while_being_reserved_make_the_call_short_and_give_back_everything_once(
        monkeypatch, released):
    """The order gives up (its saga compensates) after the units were taken, before the holds:
    the hold finds those rows released, and this call gives back every unit it took, once."""
    ProductFactory(sku="LAMP", units=5)
    ProductFactory(sku="MUG", units=5)
    order_id = uuid.uuid4()
    real_hold = reservations._reservation_hold

    def release_then_hold(claims):
        for claim in claims:
            if claim.row.sku in released:
                assert reservations.reservation_transition(claim.row, R.PENDING, R.RELEASED,
                                                           note="released by the order")
        return real_hold(claims)

    monkeypatch.setattr(reservations, "_reservation_hold", release_then_hold)

    outcome = catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2), line("MUG", 3)])

    assert (outcome.reserved, outcome.short_skus) == (False, tuple(released))
    assert statuses(order_id) == {"LAMP": R.RELEASED, "MUG": R.RELEASED}
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 5
    assert assert_stock_consistent("MUG", stocked=5)["available"] == 5
    assert not Reservation.objects.filter(order_id=order_id, settling_since__isnull=False).exists()


def test_a_short_line_keeps_holds_that_an_earlier_call_made():
    ProductFactory(sku="LAMP", units=5)
    ProductFactory(sku="MUG", units=1)
    order_id = uuid.uuid4()
    catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2)])

    outcome = catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2), line("MUG", 2)])

    assert outcome.short_skus == ("MUG",)
    assert statuses(order_id)["LAMP"] == R.HELD
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 3


def test_reserving_another_quantity_of_a_held_line_is_refused():
    ProductFactory(sku="LAMP", units=5)
    order_id = uuid.uuid4()
    catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2)])

    with pytest.raises(ReservationMismatch):
        catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 3)])

    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 3


def test_quantities_must_be_positive_integers():
    ProductFactory(sku="LAMP", units=5)

    for quantity in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            catalog.stock_reserve(order_id=uuid.uuid4(), lines=[line("LAMP", quantity)])

    assert not Reservation.objects.exists()


def test_release_gives_the_units_back_once_however_often_it_is_called():
    ProductFactory(sku="LAMP", units=5)
    order_id = uuid.uuid4()
    catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2)])

    catalog.stock_release(order_id=order_id)
    catalog.stock_release(order_id=order_id)

    assert statuses(order_id) == {"LAMP": R.RELEASED}
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 5
    assert list(ReservationEvent.objects.filter(order_id=order_id).values_list("to_status", flat=True)) == [
        R.PENDING, R.HELD, R.RELEASED]


def test_release_of_an_order_without_reservations_does_nothing():
    ProductFactory(sku="LAMP", units=5)

    catalog.stock_release(order_id=uuid.uuid4())

    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 5


def test_commit_at_shipment_takes_the_units_out_for_good_and_release_cannot_return_them():
    ProductFactory(sku="LAMP", units=5)
    order_id = uuid.uuid4()
    catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2)], ttl=None)

    catalog.stock_commit(order_id=order_id)
    catalog.stock_commit(order_id=order_id)
    catalog.stock_release(order_id=order_id)

    assert statuses(order_id) == {"LAMP": R.COMMITTED}
    state = assert_stock_consistent("LAMP", stocked=5)
    assert (state["available"], state["held"], state["committed"], state["on_hand"]) == (3, 0, 2, 3)


def test_the_sweeper_gives_back_holds_past_their_expiry_and_only_those():
    ProductFactory(sku="LAMP", units=5)
    short_lived, long_lived, confirmed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    catalog.stock_reserve(order_id=short_lived, lines=[line("LAMP", 1)], ttl=timedelta(minutes=5))
    catalog.stock_reserve(order_id=long_lived, lines=[line("LAMP", 1)], ttl=timedelta(hours=2))
    catalog.stock_reserve(order_id=confirmed, lines=[line("LAMP", 1)], ttl=timedelta(minutes=5))
    catalog.stock_hold_extend(order_id=confirmed, ttl=None)

    report = reservations_sweep(now=timezone.now() + timedelta(minutes=10))

    assert report.expired == 1
    assert statuses(short_lived) == {"LAMP": R.EXPIRED}
    assert statuses(long_lived) == statuses(confirmed) == {"LAMP": R.HELD}
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 3


def test_reserving_again_after_the_hold_expired_takes_the_units_again():
    ProductFactory(sku="LAMP", units=5)
    order_id = uuid.uuid4()
    catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2)], ttl=timedelta(minutes=1))
    reservations_sweep(now=timezone.now() + timedelta(minutes=2))
    assert stock_state("LAMP")["available"] == 5

    outcome = catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2)])

    assert outcome.reserved is True
    assert statuses(order_id) == {"LAMP": R.HELD}
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 3


def test_the_periodic_task_is_scheduled_and_expires_holds():
    ProductFactory(sku="LAMP", units=5)
    order_id = uuid.uuid4()
    catalog.stock_reserve(order_id=order_id, lines=[line("LAMP", 2)], ttl=timedelta(seconds=-1))

    result = reservations_sweep_task.delay().get()

    assert settings.CELERY_BEAT_SCHEDULE["catalog-reservations-sweep"]["task"] == reservations_sweep_task.name
    assert result == {"expired": 1, "reconciled": 0, "adjustments_settled": 0}
    assert statuses(order_id) == {"LAMP": R.EXPIRED}
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 5
