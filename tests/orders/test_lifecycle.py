"""After placement: ship, cancel, refund; who may do what; one action at a time."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connections
from rest_framework.test import APIClient

from apps.common.messaging.schemas import validate_event_data
from apps.common.models import OutboxEvent
from apps.orders.models import Order
from apps.orders.services.lifecycle import order_refund
from apps.payments import api as payments_api
from tests.orders.conftest import action, available, held_for, payment_status, place

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def confirmed(customer_client, stock):
    stock("MUG-1", "12.50", units=10)
    stock("TEE-2", "20.00", units=10)
    response = place(customer_client, [("MUG-1", 2), ("TEE-2", 1)])
    assert response.status_code == 201
    return response.json()


def events_of(order_id, event_type):
    events = list(OutboxEvent.objects.filter(aggregate_id=str(order_id), event_type=event_type))
    for event in events:
        validate_event_data(event_type, 1, event.data)
    return events


def test_shipping_captures_the_payment_and_commits_the_stock(staff_api, confirmed):
    response = action(staff_api, confirmed["id"], "ship")
    assert response.status_code == 200, response.json()
    order = response.json()
    assert order["status"] == "shipped" and order["shipped_at"] and order["paid_at"]
    assert order["payment"]["status"] == "captured"
    assert order["payment"]["amount_captured"] == "45.00"
    assert (available("MUG-1"), held_for(confirmed["id"])) == (8, 0)  # committed: gone for good
    assert len(events_of(confirmed["id"], "orders.order_paid")) == 1
    assert len(events_of(confirmed["id"], "orders.order_shipped")) == 1


def test_cancelling_voids_the_authorization_and_releases_the_stock(customer_client, confirmed):
    response = action(customer_client, confirmed["id"], "cancel", {"reason": "changed my mind"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert payment_status(confirmed["id"]) == "voided"
    assert (available("MUG-1"), available("TEE-2")) == (10, 10)
    (event,) = events_of(confirmed["id"], "orders.order_cancelled")
    assert event.data["reason"] == "changed my mind"


def test_partial_then_full_refund_by_amount_and_by_lines(staff_api, confirmed):
    action(staff_api, confirmed["id"], "ship")
    partial = action(staff_api, confirmed["id"], "refund", {"lines": [{"sku": "MUG-1", "quantity": 1}]})
    assert partial.status_code == 200, partial.json()
    assert (partial.json()["status"], partial.json()["refunded_amount"]) == ("partially_refunded", "12.50")
    rest = action(staff_api, confirmed["id"], "refund", {"amount": "32.50"})
    assert (rest.json()["status"], rest.json()["refunded_amount"]) == ("refunded", "45.00")
    assert rest.json()["payment"]["amount_refunded"] == "45.00"
    assert [e.data["amount"] for e in events_of(confirmed["id"], "orders.order_refunded")] == ["12.50", "32.50"]


def test_refunding_more_than_remains_is_refused_without_a_refund(staff_api, confirmed):
    action(staff_api, confirmed["id"], "ship")
    response = action(staff_api, confirmed["id"], "refund", {"amount": "45.01"})
    assert response.status_code == 422
    assert response.json()["code"] == "refund_not_allowed"
    assert staff_api.get(f"/api/v1/orders/{confirmed['id']}/").json()["payment"]["amount_refunded"] == "0.00"


@pytest.mark.parametrize("first, then", [("cancel", "ship"), ("cancel", "refund")])
def test_an_illegal_transition_answers_409(staff_api, confirmed, first, then):
    assert action(staff_api, confirmed["id"], first).status_code == 200
    response = action(staff_api, confirmed["id"], then, {"amount": "1.00"} if then == "refund" else None)
    assert response.status_code == 409
    assert response.json()["code"] == "order_transition_not_allowed"


def test_refunding_an_unshipped_order_answers_409(staff_api, confirmed):
    response = action(staff_api, confirmed["id"], "refund", {"amount": "1.00"})
    assert response.status_code == 409


def test_customers_see_only_their_own_orders(customer_client, other_customer, confirmed):
    other = APIClient()
    other.force_authenticate(other_customer)
    assert [o["id"] for o in customer_client.get("/api/v1/orders/").json()["results"]] == [confirmed["id"]]
    assert other.get("/api/v1/orders/").json()["results"] == []


@pytest.mark.parametrize("method, suffix, body", [
    ("get", "", None), ("post", "cancel/", {}), ("post", "ship/", {}), ("post", "refund/", {"amount": "1"}),
    ("post", "notes/", {"message": "hi"}),
])
def test_another_customers_order_is_a_404_on_every_endpoint(other_customer, confirmed, method, suffix, body):
    other = APIClient()
    other.force_authenticate(other_customer)
    response = getattr(other, method)(f"/api/v1/orders/{confirmed['id']}/{suffix}", body, format="json",
                                      HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Order.objects.get(pk=confirmed["id"]).status == "confirmed"


def test_a_customer_cannot_ship_or_refund_their_own_order(customer_client, confirmed):
    assert action(customer_client, confirmed["id"], "ship").status_code == 403
    assert action(customer_client, confirmed["id"], "refund", {"amount": "1"}).status_code == 403


def test_orders_cannot_be_edited_directly(customer_client, staff_api, confirmed):
    for client in (customer_client, staff_api):
        assert client.patch(f"/api/v1/orders/{confirmed['id']}/", {"status": "shipped"}, format="json").status_code \
            == 405
    assert Order.objects.get(pk=confirmed["id"]).status == "confirmed"


def test_staff_list_every_order_and_filter_by_status(staff_api, confirmed):
    results = staff_api.get("/api/v1/orders/?status=confirmed").json()["results"]
    assert [o["id"] for o in results] == [confirmed["id"]]
    assert staff_api.get("/api/v1/orders/?status=shipped").json()["results"] == []


def test_a_stale_if_match_answers_412(staff_api, confirmed):
    response = action(staff_api, confirmed["id"], "ship", HTTP_IF_MATCH=f'"{confirmed["version"] - 1}"')
    assert response.status_code == 412
    assert Order.objects.get(pk=confirmed["id"]).status == "confirmed"
    assert action(staff_api, confirmed["id"], "ship", HTTP_IF_MATCH=f'"{confirmed["version"]}"').status_code == 200


def test_if_match_star_matches_whatever_version_the_order_is_at(customer_client, confirmed):
    # Given an order whose stale version is refused
    stale = action(customer_client, confirmed["id"], "cancel", HTTP_IF_MATCH=f'"{confirmed["version"] - 1}"')
    assert stale.status_code == 412

    # When it cancels with If-Match: * (RFC 9110: any current representation)
    response = action(customer_client, confirmed["id"], "cancel", HTTP_IF_MATCH="*")

    # Then the cancellation goes through
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"


def test_if_match_star_on_an_order_that_does_not_exist_is_a_404(customer_client):
    response = action(customer_client, uuid.uuid4(), "cancel", HTTP_IF_MATCH="*")
    assert response.status_code == 404


def test_staff_notes_land_in_the_timeline(staff_api, confirmed):
    response = staff_api.post(f"/api/v1/orders/{confirmed['id']}/notes/", {"message": "gift wrap"}, format="json")
    assert response.status_code == 201
    assert [(e["kind"], e["message"], e["actor"]) for e in response.json()["timeline"] if e["kind"] == "note"] == [
        ("note", "gift wrap", "staff")]


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_two_staff_actions_at_once_one_wins_the_other_gets_409(staff, confirmed, monkeypatch):
    # Given the first action is inside the payment call when the second arrives
    inside, release = threading.Event(), threading.Event()
    real_capture = payments_api.payment_capture

    def slow_capture(**kwargs):
        inside.set()
        release.wait(timeout=30)
        return real_capture(**kwargs)

    monkeypatch.setattr(payments_api, "payment_capture", slow_capture)

    def run(name):
        client = APIClient()
        client.force_authenticate(staff)
        try:
            return action(client, confirmed["id"], name).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        ship = pool.submit(run, "ship")
        assert inside.wait(timeout=30)
        cancel = pool.submit(run, "cancel").result(timeout=30)
        release.set()
        shipped = ship.result(timeout=30)
    assert (shipped, cancel) == (200, 409)
    assert Order.objects.get(pk=confirmed["id"]).status == "shipped"
    assert payment_status(confirmed["id"]) == "captured"


def test_a_refund_called_twice_with_one_key_refunds_once(staff, staff_api, confirmed):
    # Given a shipped order (the admin's form and the API both call the service with a key)
    action(staff_api, confirmed["id"], "ship")
    order = Order.objects.get(pk=confirmed["id"])
    # When the same refund reaches the service twice (a resubmitted form, a retried call)
    first = order_refund(order=order, actor=staff, idempotency_key="once", amount=Decimal("5.00"))
    second = order_refund(order=Order.objects.get(pk=order.pk), actor=staff, idempotency_key="once",
                          amount=Decimal("5.00"))
    # Then the order, the payment and the events count it once
    assert first.refunded_amount == second.refunded_amount == Decimal("5.00")
    assert payments_api.payment_for_order(order_id=order.pk).amount_refunded == Decimal("5.00")
    assert len(events_of(order.pk, "orders.order_refunded")) == 1
