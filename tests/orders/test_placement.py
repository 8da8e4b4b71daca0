"""Order placement through the API: the saga over catalog and payments, as a client sees it."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.common.messaging.schemas import validate_event_data
from apps.common.models import OutboxEvent
from apps.orders.customers import guest_orders_attach
from apps.orders.models import Order
from apps.orders.services.transitions import order_paid_event, order_transition
from tests.orders.conftest import DECLINED, available, held_for, payment_status, place

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_placed_order_is_confirmed_with_stock_held_and_payment_authorized(customer_client, customer, stock):
    # Given two products in stock
    stock("MUG-1", "12.50", units=5)
    stock("TEE-2", "20.00", units=5)

    # When the customer orders 2 mugs and 1 tee
    response = place(customer_client, [("MUG-1", 2), ("TEE-2", 1)])

    # Then the order is confirmed with snapshots and totals, stock is held and the payment authorized
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["status"] == "confirmed"
    assert order["currency"] == "USD"
    assert (order["subtotal"], order["total"]) == ("45.00", "45.00")
    # placed server to server, it ships nothing: no addresses, no shipping, total = subtotal
    assert (order["shipping_total"], order["discount_total"], order["tax_total"]) == ("0.00", "0.00", "0.00")
    assert (order["shipping_address"], order["billing_address"], order["shipping_method"], order["cart_id"]) == (
        None, None, "", None)
    assert [(line["sku"], line["quantity"], line["unit_price"], line["line_total"]) for line in order["lines"]] == [
        ("MUG-1", 2, "12.50", "25.00"), ("TEE-2", 1, "20.00", "20.00")]
    assert order["email"] == customer.email
    assert order["payment"]["status"] == "authorized"
    assert order["payment"]["amount_authorized"] == "45.00"
    assert response["ETag"] == f'"{order["version"]}"'
    assert (available("MUG-1"), available("TEE-2")) == (3, 4)
    assert held_for(order["id"]) == 3
    assert [e["to_status"] for e in order["timeline"] if e["kind"] == "status"] == ["pending", "confirmed"]


@pytest.mark.parametrize("capture_on_placement", [False, True])
def test_the_201_of_a_placement_is_what_a_later_get_answers(customer_client, stock, settings, capture_on_placement):
    # Given an order of two products, its payment authorized (or captured at once)
    settings.ORDERS_CAPTURE_ON_PLACEMENT = capture_on_placement
    stock("MUG-1", "12.50")
    stock("TEE-2", "20.00")
    placed = place(customer_client, [("TEE-2", 1), ("MUG-1", 2)], phone="+15551234567")

    # When the customer reads the order back
    read = customer_client.get(f"/api/v1/orders/{placed.json()['id']}/")

    # Then the placement answered exactly that: lines, payment, timeline and ETag
    assert placed.status_code == 201, placed.json()
    assert placed.json()["payment"]["status"] == ("captured" if capture_on_placement else "authorized")
    assert placed.content == read.content
    assert placed["ETag"] == read["ETag"]


def test_a_placement_answers_without_reading_its_order_back(customer_client, stock):
    stock("MUG-1")
    with CaptureQueriesContext(connections["default"]) as queries:
        response = place(customer_client, [("MUG-1", 1)])
    assert response.status_code == 201
    read_back = [query["sql"] for query in queries
                 if query["sql"].startswith("SELECT") and ('"orders_orderline"' in query["sql"]
                                                           or '"orders_orderevent"' in query["sql"])]
    assert read_back == []


def test_order_placed_is_recorded_once_and_matches_its_schema(customer_client, stock):
    stock("MUG-1", "12.50")
    order = place(customer_client, [("MUG-1", 1)]).json()
    (event,) = OutboxEvent.objects.filter(aggregate_id=order["id"], event_type="orders.order_placed")
    validate_event_data("orders.order_placed", 1, event.data)
    assert event.data["total"] == "12.50" and event.data["lines"][0]["sku"] == "MUG-1"


def test_a_declined_card_answers_402_and_gives_the_stock_back(customer_client, stock):
    stock("MUG-1", units=5)
    response = place(customer_client, [("MUG-1", 2)], token=DECLINED)
    assert response.status_code == 402
    assert response.json()["code"] == "payment_declined"
    order = Order.objects.get()
    assert order.status == "payment_failed"
    assert available("MUG-1") == 5
    assert held_for(order.id) == 0
    assert payment_status(order.id) != "authorized"
    assert not OutboxEvent.objects.filter(event_type="orders.order_placed").exists()


def test_a_declined_card_names_the_order_it_left_behind(customer_client, stock):
    # Given a customer whose card is declined
    stock("MUG-1", units=5)
    response = place(customer_client, [("MUG-1", 2)], token=DECLINED)

    # Then the problem says which order was created, and links to it
    assert response.status_code == 402
    problem = response.json()
    order = Order.objects.get()
    assert (problem["order_id"], problem["order_number"]) == (str(order.id), order.number)
    linked = customer_client.get(problem["order_url"])
    assert linked.status_code == 200
    assert (linked.json()["id"], linked.json()["status"]) == (str(order.id), "payment_failed")


def test_out_of_stock_answers_409_naming_the_skus_and_authorizes_nothing(customer_client, stock):
    stock("MUG-1", units=5)
    stock("TEE-2", units=1)
    response = place(customer_client, [("MUG-1", 2), ("TEE-2", 3)])
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "out_of_stock"
    assert body["skus"] == ["TEE-2"]
    order = Order.objects.get()
    assert order.status == "rejected"
    assert (available("MUG-1"), available("TEE-2")) == (5, 1)
    assert payment_status(order.id) is None


def test_processor_down_answers_503_with_retry_after_and_releases_stock(customer_client, stock, settings):
    # Given card payments routed to an HTTP processor nobody listens to
    stock("MUG-1", units=5)
    settings.PAYMENTS_PROVIDERS = {**settings.PAYMENTS_PROVIDERS, "card": "http"}
    settings.PAYMENTS_HTTP_BASE_URL = "http://127.0.0.1:1"
    response = place(customer_client, [("MUG-1", 1)])
    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert int(response["Retry-After"]) > 0
    order = Order.objects.get()
    assert order.status == "payment_failed"
    assert available("MUG-1") == 5
    assert payment_status(order.id) != "authorized"


def test_unknown_or_inactive_products_answer_422_and_write_nothing(customer_client, stock):
    stock("MUG-1")
    response = place(customer_client, [("MUG-1", 1), ("NOPE-9", 1)])
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_products"
    assert response.json()["skus"] == ["NOPE-9"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize("body, field", [
    ({"lines": [], "payment_token": "tok_approved"}, "lines"),
    ({"lines": [{"sku": "MUG-1", "quantity": 0}], "payment_token": "tok_approved"}, "lines.0.quantity"),
    ({"lines": [{"sku": "MUG-1", "quantity": 1}]}, "payment_token"),
    ({"lines": [{"sku": "MUG-1", "quantity": 1}], "payment_token": "t", "phone": "12"}, "phone"),
])
def test_invalid_bodies_answer_400_naming_the_field(customer_client, body, field):
    response = customer_client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert Order.objects.count() == 0


def test_server_owned_fields_in_the_body_are_ignored(customer_client, customer, other_customer, stock):
    stock("MUG-1", "12.50")
    response = place(customer_client, [("MUG-1", 1)], status="shipped", total="0.01", customer=other_customer.pk)
    order = response.json()
    assert (order["status"], order["total"]) == ("confirmed", "12.50")
    assert Order.objects.get().customer == customer


def test_a_retry_with_the_same_key_replays_the_order(customer_client, stock):
    stock("MUG-1", units=5)
    first = place(customer_client, [("MUG-1", 1)], key="order-key-1")
    again = place(customer_client, [("MUG-1", 1)], key="order-key-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1
    assert available("MUG-1") == 4


def test_a_replay_is_the_first_answer_byte_for_byte_with_its_headers(customer_client, stock):
    # Given an order whose answer lists its fields in the serializer's order, not sorted
    stock("MUG-1", units=5)
    first = place(customer_client, [("MUG-1", 1)], key="order-key-1")
    assert list(first.json()) != sorted(first.json())

    # When the client retries with the same key
    again = place(customer_client, [("MUG-1", 1)], key="order-key-1")

    # Then it gets the same bytes and the same headers, marked as a replay
    assert again.content == first.content
    assert again.status_code == first.status_code == 201
    for header in ("Content-Type", "ETag", "Location"):
        assert again.get(header) == first.get(header)
    assert first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


def test_a_replayed_problem_is_the_first_one_byte_for_byte(customer_client, stock):
    stock("MUG-1", units=5)
    first = place(customer_client, [("MUG-1", 1)], token=DECLINED, key="order-key-1")
    again = place(customer_client, [("MUG-1", 1)], token=DECLINED, key="order-key-1")
    assert (first.status_code, again.status_code) == (402, 402)
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] == "application/problem+json"
    assert again["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_answers_422(customer_client, stock):
    stock("MUG-1", units=5)
    place(customer_client, [("MUG-1", 1)], key="order-key-1")
    response = place(customer_client, [("MUG-1", 2)], key="order-key-1")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_twenty_parallel_posts_with_one_key_make_one_order_and_one_authorization(customer, stock):
    stock("MUG-1", units=50)

    def post(_):
        client = APIClient()
        client.force_authenticate(customer)
        try:
            return place(client, [("MUG-1", 1)], key="same-key").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(post, range(20)))
    assert Order.objects.count() == 1
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert available("MUG-1") == 49
    order = Order.objects.get()
    from apps.payments.models import Payment

    assert Payment.objects.filter(order_id=order.id).count() == 1


@pytest.mark.parametrize("body", [
    "[" * 15000 + "]" * 15000,
    '{"a":' * 5000 + "1" + "}" * 5000,
    '{"lines": ' + "[" * 100 + "]" * 100 + ', "payment_token": "tok_approved"}',
], ids=["arrays", "objects", "deeper-than-the-limit"])
@pytest.mark.parametrize("endpoint", ["create", "cancel"])
def test_a_body_nested_too_deep_is_a_400_problem(customer_client, stock, endpoint, body):
    # Given a confirmed order
    stock("MUG-1", units=5)
    order = place(customer_client, [("MUG-1", 1)]).json()
    url = "/api/v1/orders/" if endpoint == "create" else f"/api/v1/orders/{order['id']}/cancel/"

    # When a body nests deeper than any request of the API does (a few KB can nest thousands deep)
    response = customer_client.generic("POST", url, body, content_type="application/json",
                                       HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)

    # Then it is refused as malformed, and nothing changed
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"
    assert list(Order.objects.values_list("status", flat=True)) == ["confirmed"]



def test_a_guest_order_that_joins_an_account_mid_placement_is_confirmed_in_that_account(customer):
    # A transition writes the order it holds without reading it back: the one column changed
    # without a new version (the customer, when a guest verifies their email mid-saga) must
    # neither fail the placement nor be lost from the order or its event.
    now = timezone.now()
    order = Order.objects.create(number="CGUEST0001", customer=None, email=customer.email, currency="USD",
                                 subtotal="10.00", total="10.00", idempotency_key="guest-1", created_at=now,
                                 updated_at=now)
    held = Order.objects.get(pk=order.pk)  # as the saga holds it, read before the email was verified
    assert guest_orders_attach(email=customer.email, customer_id=customer.pk) == 1

    order_transition(held, "confirmed", message="Stock held and payment authorized", payment_id=uuid.uuid4(),
                     emit=[order_paid_event])

    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.customer_id, stored.version) == ("confirmed", customer.pk, 2)
    (event,) = OutboxEvent.objects.filter(aggregate_id=str(order.pk), event_type="orders.order_paid")
    assert event.data["customer_id"] == customer.pk
