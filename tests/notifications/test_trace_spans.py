"""One trace from POST /api/v1/orders/ to the webhook delivery, as an in-memory span exporter
records it in one process: the request records the order's events with its traceparent; the
outbox relay runs afterwards, outside the request, as a worker would; the notifications consumer
continues the trace from the envelope; the delivery task, and its outgoing HTTP request, from the
delivery row. (tests/notifications/test_trace.py follows the same trace into a real worker.)"""

import uuid
from decimal import Decimal

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from rest_framework.test import APIClient

from apps.common.observability.telemetry import telemetry_setup
from tests.catalog.factories import ProductFactory
from tests.notifications.factories import WebhookEndpointFactory

pytestmark = [pytest.mark.django_db(databases="__all__"), pytest.mark.usefixtures("loopback_allowed")]


@pytest.fixture
def spans():
    """Every span that ends during the test, exported as it ends."""
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    telemetry_setup(extra_processors=(processor,))
    yield exporter
    processor.shutdown()  # the provider keeps it, but it exports nothing more


def trace_id(span) -> str:
    return format(span.context.trace_id, "032x")


def ancestry(span, by_id: dict) -> list:
    """The span's parents, nearest first, as far as they were recorded in this process."""
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


def test_the_webhook_delivery_belongs_to_the_trace_of_the_order_request(
        spans, receiver, customer, django_capture_on_commit_callbacks):
    # Given a webhook endpoint for placed orders and a product in stock
    WebhookEndpointFactory(url=f"{receiver.url}/hooks", event_types=["orders.order_placed"])
    ProductFactory(sku="MUG-1", price=Decimal("12.50"), currency="USD", units=5)
    client = APIClient()
    client.force_authenticate(customer)

    # When the order is placed; what its commit set off (the outbox relay pass) runs afterwards,
    # outside the request, and so do the deliveries the notifications consumer creates
    with django_capture_on_commit_callbacks() as after_the_request:
        response = client.post("/api/v1/orders/", {"lines": [{"sku": "MUG-1", "quantity": 1}],
                                                   "payment_token": "tok_approved"}, format="json",
                               HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert response.status_code == 201, response.json()
    assert after_the_request
    with django_capture_on_commit_callbacks(execute=True):
        for callback in after_the_request:
            callback()

    # Then the receiver got the webhook
    assert [received.json()["type"] for received in receiver.requests] == ["orders.order_placed"]
    finished = spans.get_finished_spans()
    by_id = {span.context.span_id: span for span in finished}
    [request_span] = [span for span in finished if span.kind == SpanKind.SERVER and span.name.startswith("POST")
                      and "orders" in span.name]
    [consumed] = [span for span in finished if span.name == "consume orders.order_placed"
                  and span.attributes.get("consumer") == "notifications"]
    [delivered] = [span for span in finished if span.name == "notify webhook"]
    [sent] = [span for span in finished if span.kind == SpanKind.CLIENT
              and any(str(value).startswith(receiver.url) for value in span.attributes.values())]

    # and the request, the event's consumption, the delivery and its HTTP request are one trace
    assert {trace_id(span) for span in (request_span, consumed, delivered, sent)} == {trace_id(request_span)}
    # in which the delivery descends from the request that placed the order
    assert request_span in ancestry(sent, by_id)
    assert ancestry(delivered, by_id)[-1] is request_span
    # and the receiver was told that trace too
    assert receiver.requests[0].headers["traceparent"].split("-")[1] == trace_id(request_span)
