"""A crash at any step of placement leaves an order that recovery finishes: confirmed (stock
held, payment authorized) or terminal (stock released, no authorization outstanding)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog import api as catalog_api
from apps.orders.models import Order
from apps.orders.services.recovery import orders_recover_stuck
from apps.payments import api as payments_api
from apps.payments.services.reconciliation import payments_reconcile
from tests.orders.conftest import DECLINED, available, held_for, payment_status, place

pytestmark = pytest.mark.django_db(databases="__all__")


class Crash(Exception):
    """The process dies here (nothing after this point runs)."""


def crash_after(monkeypatch, module, name):
    real = getattr(module, name)

    def step(**kwargs):
        real(**kwargs)
        raise Crash(name)

    monkeypatch.setattr(module, name, step)


def crash_before(monkeypatch, module, name):
    def step(**kwargs):
        raise Crash(name)

    monkeypatch.setattr(module, name, step)


def recover():
    Order.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    return orders_recover_stuck()


def assert_settled(order, sku, stocked):
    if order.status == "confirmed":
        assert held_for(order.id) > 0 and payment_status(order.id) == "authorized"
    else:
        assert order.status in ("rejected", "payment_failed")
        assert held_for(order.id) == 0 and available(sku) == stocked
        assert payment_status(order.id) != "authorized"


def place_crashing(client, monkeypatch, module, name, when="after", token="tok_approved"):
    (crash_after if when == "after" else crash_before)(monkeypatch, module, name)
    client.raise_request_exception = False
    response = place(client, [("MUG-1", 2)], token=token)
    assert response.status_code == 500  # the request died mid-saga; its caller saw an error
    monkeypatch.undo()
    return Order.objects.get()


@pytest.mark.parametrize("module, name, when, expected", [
    (catalog_api, "stock_reserve", "before", "rejected"),       # crashed before reserving
    (catalog_api, "stock_reserve", "after", "rejected"),        # reserved, crashed before recording it
    (payments_api, "payment_authorize", "before", "payment_failed"),  # stock held, never authorized
    (payments_api, "payment_authorize", "after", "confirmed"),  # authorized, crashed before confirming
    (catalog_api, "stock_hold_extend", "before", "confirmed"),  # crashed while confirming
])
def test_recovery_settles_an_order_whichever_step_it_crashed_at(customer_client, stock, monkeypatch, module, name,
                                                                when, expected):
    stock("MUG-1", units=5)
    order = place_crashing(customer_client, monkeypatch, module, name, when)
    assert order.status == "pending"

    assert recover() == 1

    order.refresh_from_db()
    assert order.status == expected
    assert_settled(order, "MUG-1", 5)
    assert recover() == 0  # nothing left stuck; a second pass changes nothing


def test_recovery_finishes_a_compensation_that_crashed_halfway(customer_client, stock, monkeypatch):
    # Given a declined card whose compensation died after voiding, before releasing the stock
    stock("MUG-1", units=5)
    order = place_crashing(customer_client, monkeypatch, catalog_api, "stock_release", "before", token=DECLINED)
    assert order.status == "pending" and held_for(order.id) == 2

    recover()

    order.refresh_from_db()
    assert order.status == "payment_failed"
    assert_settled(order, "MUG-1", 5)


def test_an_order_still_moving_is_not_touched_by_recovery(customer_client, stock, monkeypatch):
    stock("MUG-1", units=5)
    order = place_crashing(customer_client, monkeypatch, catalog_api, "stock_reserve", "after")
    assert orders_recover_stuck() == 0  # updated just now: its placement may still be running
    order.refresh_from_db()
    assert order.status == "pending"


def test_an_unknown_payment_outcome_ends_terminal_and_the_late_authorization_is_voided(customer_client, stock,
                                                                                       settings):
    # Given the processor approved but its answer was lost (a timeout): the outcome is unknown
    stock("MUG-1", units=5)
    response = place(customer_client, [("MUG-1", 1)], token="tok_timeout")
    assert response.status_code == 503
    order = Order.objects.get()
    # Then the order ends terminal with its stock back at once
    assert order.status == "payment_failed"
    assert available("MUG-1") == 5
    # And when reconciliation learns the processor did authorize, it voids that authorization
    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    payments_reconcile()
    assert payment_status(order.id) == "voided"
