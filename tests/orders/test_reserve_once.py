"""Placement reserves the stock once: confirming only extends the hold it took moments ago.
It reserves again only when the hold lapsed meanwhile (a payment slower than the reservation's
TTL), and then either takes the units back or rejects the order without overselling."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog import api as catalog
from apps.catalog.models import Reservation
from apps.catalog.services.sweeper import reservations_expire
from apps.payments import api as payments
from tests.orders.conftest import available, held_for, payment_status, place

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def reserve_calls(monkeypatch):
    calls = []
    real = catalog.stock_reserve

    def counted(**kwargs):
        calls.append(kwargs["order_id"])
        return real(**kwargs)

    monkeypatch.setattr(catalog, "stock_reserve", counted)
    return calls


def authorize_after(monkeypatch, meanwhile):
    """The payment provider answers after `meanwhile` happened (a slow authorization)."""
    real = payments.payment_authorize

    def slow(**kwargs):
        meanwhile(kwargs["order_id"])
        return real(**kwargs)

    monkeypatch.setattr(payments, "payment_authorize", slow)


def expire_holds(order_id):
    """The reservation's TTL passes and the sweeper gives the units back."""
    Reservation.objects.filter(order_id=order_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    reservations_expire()


def test_a_placement_reserves_each_line_once(customer_client, stock, reserve_calls):
    stock("MUG-1", "12.50", units=10)
    stock("TEE-2", "20.00", units=10)
    response = place(customer_client, [("MUG-1", 2), ("TEE-2", 1)])
    assert response.status_code == 201, response.json()
    assert len(reserve_calls) == 1
    assert (held_for(response.json()["id"]), available("MUG-1"), available("TEE-2")) == (3, 8, 9)


def test_a_hold_that_lapsed_during_a_slow_payment_is_taken_again(customer_client, stock, reserve_calls,
                                                                  monkeypatch):
    stock("MUG-1", "12.50", units=10)
    authorize_after(monkeypatch, expire_holds)
    response = place(customer_client, [("MUG-1", 2)])
    # The order is confirmed with its units held again, and nothing was counted twice
    assert response.status_code == 201, response.json()
    assert len(reserve_calls) == 2
    assert (held_for(response.json()["id"]), available("MUG-1")) == (2, 8)


def test_a_hold_that_lapsed_while_others_bought_the_units_rejects_the_order_and_voids_the_payment(
        customer_client, stock, monkeypatch):
    stock("MUG-1", "12.50", units=2)
    order_ids = []

    def expire_and_sell_out(order_id):
        order_ids.append(order_id)
        expire_holds(order_id)
        catalog.stock_reserve(order_id=uuid.uuid4(), lines=[catalog.StockLine(sku="MUG-1", quantity=2)],
                              ttl=timedelta(minutes=5))

    authorize_after(monkeypatch, expire_and_sell_out)
    response = place(customer_client, [("MUG-1", 2)])
    # No oversell: the order is rejected with 409, its authorization voided, the units stay sold
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "out_of_stock"
    assert payment_status(order_ids[0]) == "voided"
    assert available("MUG-1") == 0 and held_for(order_ids[0]) == 0
