"""Races on real PostgreSQL (or MongoDB): real threads, each with its own connection, no locks.
Correctness comes from conditional updates alone."""

import threading
import uuid

import pytest
from django.db import connections

from apps.catalog import api as catalog
from apps.catalog.models import Reservation, Stock, StockAdjustment
from apps.catalog.services.adjustments import stock_adjust
from tests.catalog.factories import ProductFactory
from tests.catalog.invariants import assert_stock_consistent
from tests.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "catalog"])


class StockWatcher:
    """Samples the counters while the race runs: what any reader could have seen."""

    def __init__(self, sku):
        self.sku, self.samples, self._stop = sku, [], threading.Event()
        self._thread = threading.Thread(target=self._watch)

    def _watch(self):
        try:
            while not self._stop.is_set():
                self.samples.append(Stock.objects.values("available", "held", "committed", "stocked").get(pk=self.sku))
        finally:
            connections.close_all()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def test_fifty_buyers_racing_for_ten_units_get_exactly_ten():
    ProductFactory(sku="HOT", units=10)
    orders = [uuid.uuid4() for _ in range(50)]

    with StockWatcher("HOT") as watcher:
        outcomes = race(50, lambda i: catalog.stock_reserve(order_id=orders[i],
                                                            lines=[catalog.StockLine(sku="HOT", quantity=1)]))

    winners = [outcome.order_id for outcome in outcomes if outcome.reserved]
    assert len(winners) == 10
    assert all(outcome.short_skus == ("HOT",) for outcome in outcomes if not outcome.reserved)
    assert Reservation.objects.filter(sku="HOT", status=Reservation.Status.HELD).count() == 10
    assert set(Reservation.objects.filter(status=Reservation.Status.HELD).values_list("order_id", flat=True)) == set(
        winners)
    assert watcher.samples, "the watcher saw the race"
    assert min(sample["available"] for sample in watcher.samples) >= 0
    assert all(s["available"] + s["held"] + s["committed"] == s["stocked"] == 10 for s in watcher.samples)
    state = assert_stock_consistent("HOT", stocked=10)
    assert (state["available"], state["held"]) == (0, 10)


def test_the_same_order_reserved_by_many_threads_at_once_holds_its_units_once():
    ProductFactory(sku="LAMP", units=10)
    order_id = uuid.uuid4()

    outcomes = race(8, lambda i: catalog.stock_reserve(order_id=order_id,
                                                       lines=[catalog.StockLine(sku="LAMP", quantity=3)]))

    assert any(outcome.reserved for outcome in outcomes)
    assert Reservation.objects.get(order_id=order_id).status == Reservation.Status.HELD
    assert assert_stock_consistent("LAMP", stocked=10)["available"] == 7


def test_many_threads_releasing_one_order_give_its_units_back_once():
    ProductFactory(sku="LAMP", units=10)
    order_id = uuid.uuid4()
    catalog.stock_reserve(order_id=order_id, lines=[catalog.StockLine(sku="LAMP", quantity=4)])

    race(8, lambda i: catalog.stock_release(order_id=order_id))

    assert Reservation.objects.get(order_id=order_id).status == Reservation.Status.RELEASED
    assert assert_stock_consistent("LAMP", stocked=10)["available"] == 10


def test_release_racing_commit_applies_exactly_one_of_them():
    ProductFactory(sku="LAMP", units=10)
    order_id = uuid.uuid4()
    catalog.stock_reserve(order_id=order_id, lines=[catalog.StockLine(sku="LAMP", quantity=4)])

    race(8, lambda i: (catalog.stock_release if i % 2 else catalog.stock_commit)(order_id=order_id))

    status = Reservation.objects.get(order_id=order_id).status
    state = assert_stock_consistent("LAMP", stocked=10)
    assert (status, state["available"], state["committed"]) in {
        (Reservation.Status.RELEASED, 10, 0), (Reservation.Status.COMMITTED, 6, 4)}


def test_concurrent_staff_adjustments_all_apply_in_one_chain():
    ProductFactory(sku="LAMP", units=0)

    adjustments = race(6, lambda i: stock_adjust(sku="LAMP", delta=i + 1, reason=f"delivery {i}", actor_name="ops"))

    assert {adjustment.status for adjustment in adjustments} == {StockAdjustment.Status.APPLIED}
    assert assert_stock_consistent("LAMP", stocked=21)["available"] == 21
    # Every adjustment follows exactly one other: one chain from the first to the head.
    stock = Stock.objects.get(pk="LAMP")
    previous = {a.id: a.previous_adjustment_id for a in StockAdjustment.objects.filter(product_id="LAMP")}
    chain, current = [], stock.last_adjustment_id
    while current is not None:
        chain.append(current)
        current = previous[current]
    assert sorted(chain) == sorted(previous)
    assert sorted(a.stocked_after for a in adjustments) == sorted(
        StockAdjustment.objects.values_list("stocked_after", flat=True))
    assert max(a.stocked_after for a in adjustments) == 21
