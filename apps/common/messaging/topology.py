"""The RabbitMQ side of domain events: the topic exchange the relay publishes to, and each
consumer's own queues (its work queue bound to the event types it wants, a retry queue and a
dead-letter queue).

The publisher declares only the exchange: it knows no consumer. Each consumer's queues are
declared by the worker that consumes them when it starts (worker.EventConsumersStep) and by the
release step (`manage.py events_topology`), which runs before any web process can publish, so
an event published before a consumer's first worker starts waits in that consumer's queue."""

from __future__ import annotations

from django.conf import settings
from kombu import Exchange, Queue, binding

from apps.common.messaging.consumers import EventConsumer, consumers_registered


def events_exchange() -> Exchange:
    return Exchange(settings.EVENTS_EXCHANGE, type="topic", durable=True)


def consumer_queue(consumer: EventConsumer) -> Queue:
    exchange = events_exchange()
    return Queue(
        consumer.queue_name,
        bindings=[binding(exchange, routing_key=pattern) for pattern in consumer.bindings],
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": settings.CELERY_DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": consumer.queue_name,
            # A handler that keeps failing cannot spin forever: the broker dead-letters it.
            "x-delivery-limit": settings.EVENT_CONSUMER_DELIVERY_LIMIT,
        },
    )


def consumer_dead_queue(consumer: EventConsumer) -> Queue:
    return Queue(
        consumer.dead_queue_name,
        Exchange(settings.CELERY_DEAD_LETTER_EXCHANGE, type="direct", durable=True),
        routing_key=consumer.queue_name,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def consumer_retry_queue(consumer: EventConsumer) -> Queue:
    """Where a failed event waits out the retry delay; it then dead-letters back (through the
    default exchange) to the consumer's own queue only, not to every consumer of its type."""
    return Queue(
        consumer.retry_queue_name,
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-message-ttl": settings.EVENT_CONSUMER_RETRY_DELAY_SECONDS * 1000,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": consumer.queue_name,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )


def events_exchange_declare(channel) -> None:
    """The publisher's part: the exchange it publishes to, nothing about who consumes."""
    events_exchange().bind(channel).declare()


def consumers_topology_declare(channel, consumers: list[EventConsumer] | None = None) -> None:
    """Declare the exchange and each consumer's queue, bindings, retry and dead-letter queues
    (every registered consumer when `consumers` is None)."""
    events_exchange_declare(channel)
    for consumer in consumers_registered() if consumers is None else consumers:
        consumer_dead_queue(consumer).bind(channel).declare()
        consumer_queue(consumer).bind(channel).declare()
        consumer_retry_queue(consumer).bind(channel).declare()
