"""Reporting as a consumer of the event backbone: its queue, bindings and inbox."""

from apps.common.messaging.consumers import consumer_get, consumers_for
from apps.common.messaging.topology import consumer_queue
from apps.reporting.models import InboxEvent


def test_reporting_consumes_order_and_payment_events_from_its_own_quorum_queue():
    consumer = consumer_get("reporting")
    queue = consumer_queue(consumer)

    assert queue.name == "reporting.events"
    assert {binding.routing_key for binding in queue.bindings} == {"orders.#", "payments.#"}
    assert {binding.exchange.name for binding in queue.bindings} == {"domain-events"}
    assert queue.queue_arguments["x-queue-type"] == "quorum"
    assert queue.queue_arguments["x-dead-letter-routing-key"] == "reporting.events"


def test_every_order_and_payment_event_reaches_reporting_and_nothing_else_does():
    for event_type in ("orders.order_placed", "orders.order_paid", "orders.order_shipped", "orders.order_cancelled",
                       "orders.order_refunded", "payments.payment_authorized", "payments.payment_captured",
                       "payments.payment_voided", "payments.payment_refunded", "payments.payment_failed"):
        assert "reporting" in [consumer.name for consumer in consumers_for(event_type)], event_type
    assert "reporting" not in [consumer.name for consumer in consumers_for("catalog.product_created")]


def test_the_reporting_inbox_lives_in_the_reporting_database():
    consumer = consumer_get("reporting")

    assert consumer.inbox is InboxEvent
    assert consumer.using == "reporting"
    assert consumer.validate  # data is checked against schemas/events before it is projected
