"""One trace from the HTTP request that places an order to the worker process that delivers its
webhook: the traceparent travels in the outbox envelope, the consumer continues it, the delivery
task carries it, and the outgoing webhook request propagates it to the receiver."""

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.catalog.factories import ProductFactory
from tests.notifications.conftest import wait_for
from tests.notifications.factories import WebhookEndpointFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases="__all__"),
              pytest.mark.usefixtures("broker_mode")]


def test_the_worker_that_delivers_the_webhook_continues_the_trace_of_the_order_request(receiver, worker, customer):
    # Given a webhook endpoint and a product in stock
    WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    ProductFactory(sku="MUG-1", price=Decimal("12.50"), currency="USD", units=5)
    trace_id = uuid.uuid4().hex
    client = APIClient()
    client.force_authenticate(customer)

    # When the order is placed by a request that belongs to our trace
    response = client.post("/api/v1/orders/", {"lines": [{"sku": "MUG-1", "quantity": 1}],
                                               "payment_token": "tok_approved"}, format="json",
                           HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
                           HTTP_TRACEPARENT=f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01")
    assert response.status_code == 201, response.json()

    # Then the webhook the worker process sends carries a traceparent of that same trace
    assert wait_for(lambda: receiver.requests, timeout=90), worker.output()[-3000:]
    traceparent = receiver.requests[0].headers.get("traceparent", "")
    assert traceparent.split("-")[1:2] == [trace_id], traceparent
