"""Event consumers: each owns a durable quorum queue "<name>.events" bound to the event types it
wants on the domain-events topic exchange, and an inbox table on its own database alias.

Producers do not know their consumers: they write to the outbox; the relay publishes to the
exchange; RabbitMQ copies each event to every queue whose binding matches its type. A consumer
registers itself from its AppConfig.ready():

    consumer_register(EventConsumer(
        name="reporting", bindings=("orders.#",), handler=event_project, inbox=InboxEvent,
        using="reporting"))

Handlers and inbox models are passed as objects, not dotted strings, so that the import
contracts see every dependency.

Celery workers consume the queues (EventConsumersStep, added to the worker by
config.celery_app); in the embedded default (tasks run eagerly, no broker) the relay hands each
event to the same handlers in-process, through the same inbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from celery import bootsteps
from django.conf import settings
from kombu import Consumer, Exchange, Producer, Queue, binding

logger = logging.getLogger(__name__)


class InvalidEvent(Exception):
    """An event that can never be applied (malformed envelope, data breaking its schema).
    It is dead-lettered to "<consumer>.events.dead" instead of being retried."""


@dataclasses.dataclass(frozen=True)
class ReceivedEvent:
    """An event as a consumer sees it: the envelope of apps.common.models.OutboxEvent."""

    id: uuid.UUID
    type: str
    version: int
    occurred_at: dt.datetime
    aggregate_id: str
    data: dict[str, Any]
    traceparent: str = ""

    @classmethod
    def from_envelope(cls, envelope: Any) -> ReceivedEvent:
        if not isinstance(envelope, dict):
            raise InvalidEvent(f"an event envelope is a JSON object, got {type(envelope).__name__}")
        try:
            occurred_at = dt.datetime.fromisoformat(envelope["occurred_at"])
            event = cls(
                id=uuid.UUID(str(envelope["id"])), type=str(envelope["type"]), version=int(envelope["version"]),
                occurred_at=occurred_at, aggregate_id=str(envelope.get("aggregate_id", "")),
                data=envelope["data"], traceparent=str(envelope.get("traceparent") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidEvent(f"malformed event envelope: {exc!r}") from exc
        if not isinstance(event.data, dict):
            raise InvalidEvent("the event's data is not a JSON object")
        return event

    def envelope(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "version": self.version,
                "occurred_at": self.occurred_at.isoformat(), "aggregate_id": self.aggregate_id,
                "data": self.data, "traceparent": self.traceparent}


@dataclasses.dataclass(frozen=True)
class EventConsumer:
    """`handler(event)` runs inside the inbox transaction on `using`; it raises InvalidEvent for
    an event it can never apply and anything else for a failure worth retrying."""

    name: str
    bindings: tuple[str, ...]
    handler: Callable[[ReceivedEvent], None]
    inbox: type  # a concrete apps.common.models.AbstractInboxEvent on `using`
    using: str = "default"
    validate: bool = True  # check data against schemas/events/<type>.v<version>.json when it exists

    @property
    def queue_name(self) -> str:
        return f"{self.name}.events"

    @property
    def dead_queue_name(self) -> str:
        return f"{self.queue_name}.dead"

    @property
    def retry_queue_name(self) -> str:
        # The delay is in the name: a queue's arguments cannot change once declared.
        return f"{self.queue_name}.retry.{settings.EVENT_CONSUMER_RETRY_DELAY_SECONDS}s"

    def wants(self, event_type: str) -> bool:
        return any(topic_matches(pattern, event_type) for pattern in self.bindings)


_REGISTRY: dict[str, EventConsumer] = {}


def consumer_register(consumer: EventConsumer) -> None:
    """Register (or replace) a consumer."""
    _REGISTRY[consumer.name] = consumer


def consumers_registered() -> list[EventConsumer]:
    return list(_REGISTRY.values())


def consumer_get(name: str) -> EventConsumer:
    return _REGISTRY[name]


def consumers_for(event_type: str) -> list[EventConsumer]:
    return [consumer for consumer in _REGISTRY.values() if consumer.wants(event_type)]


@functools.cache
def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic semantics: words split on ".", "*" is one word, "#" zero or more words."""
    return _match(tuple(pattern.split(".")), tuple(key.split(".")))


def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head in ("*", words[0])) and _match(rest, words[1:])


def event_apply(*, consumer: EventConsumer, envelope: Any) -> bool:
    """Apply one delivered event for `consumer` through its inbox: True if applied now, False if
    it had been applied before. Raises InvalidEvent for an event that can never be applied."""
    from apps.common.inbox import inbox_apply
    from apps.common.metrics import observe_handler
    from apps.common.rejections import event_rejected
    from apps.common.telemetry import continue_trace

    try:
        event = ReceivedEvent.from_envelope(envelope)
        if consumer.validate:
            _validate(event)
        with continue_trace(event.traceparent, f"consume {event.type}", consumer=consumer.name,
                            event_id=str(event.id)), observe_handler(consumer.name, event.type):
            return inbox_apply(model=consumer.inbox, using=consumer.using, consumer=consumer.name,
                               event=event, apply=consumer.handler)
    except InvalidEvent as exc:
        event_rejected(consumer=consumer.name, envelope=envelope, reason=str(exc))
        raise


def _validate(event: ReceivedEvent) -> None:
    import jsonschema

    from apps.common.schemas import UnknownEventSchema, validate_event_data

    try:
        validate_event_data(event.type, event.version, event.data)
    except UnknownEventSchema:
        return  # no contract published for this type yet: the handler reads defensively
    except jsonschema.ValidationError as exc:
        where = f"{event.type} v{event.version} breaks its schema at {exc.json_path}"
        raise InvalidEvent(f"{where}: {exc.message}") from exc


# --- RabbitMQ topology ---------------------------------------------------------------------

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


def events_topology_declare(channel, consumers: list[EventConsumer] | None = None) -> None:
    """Declare the exchange and every registered consumer's queue, bindings and dead-letter
    queue. The relay declares them too, so events published before a consumer's worker first
    started wait in its queue instead of being dropped as unroutable."""
    events_exchange().bind(channel).declare()
    for consumer in consumers_registered() if consumers is None else consumers:
        consumer_dead_queue(consumer).bind(channel).declare()
        consumer_queue(consumer).bind(channel).declare()
        consumer_retry_queue(consumer).bind(channel).declare()


# --- The worker side -------------------------------------------------------------------------

class EventConsumersStep(bootsteps.ConsumerStep):
    """Consumes every registered consumer's queue (or those named by `--event-consumers`) in the
    Celery worker. Handlers run in the worker's consumer thread and stay short: the slow work
    (sending notifications, ...) is done by tasks they enqueue after their transaction commits."""

    def __init__(self, parent, event_consumers: str | None = "all", **kwargs):
        self.selection = (event_consumers or "all").strip()
        super().__init__(parent, **kwargs)

    def selected(self) -> list[EventConsumer]:
        if self.selection == "none":
            return []
        if self.selection == "all":
            return consumers_registered()
        names = {name.strip() for name in self.selection.split(",") if name.strip()}
        unknown = names - set(_REGISTRY)
        if unknown:
            raise ValueError(f"unknown event consumers: {sorted(unknown)}")
        return [consumer for consumer in consumers_registered() if consumer.name in names]

    def get_consumers(self, channel):
        consumers = self.selected()
        if not consumers:
            return []
        events_topology_declare(channel, consumers)
        kombu_consumers = []
        for consumer in consumers:
            kombu_consumer = Consumer(
                channel, queues=[consumer_queue(consumer)], accept=["json"],
                callbacks=[functools.partial(_on_message, consumer)],
            )
            # Per-consumer QoS: quorum queues do not support the global kind.
            kombu_consumer.qos(prefetch_count=settings.EVENT_CONSUMER_PREFETCH)
            kombu_consumers.append(kombu_consumer)
            logger.info("consuming events for %s from %s", consumer.name, consumer.queue_name)
        return kombu_consumers


ATTEMPTS_HEADER = "x-consumer-attempts"


def _on_message(consumer: EventConsumer, body: Any, message) -> None:
    """Apply, then ack. An event that can never be applied is dead-lettered at once; one whose
    handler failed is parked in the retry queue (the worker's event loop never sleeps on it) and
    dead-lettered after EVENT_CONSUMER_MAX_ATTEMPTS."""
    from django.db import close_old_connections

    close_old_connections()
    try:
        event_apply(consumer=consumer, envelope=body)
    except InvalidEvent as exc:
        logger.error("%s cannot apply an event, dead-lettering it: %s", consumer.name, exc)
        message.reject(requeue=False)
    except Exception:
        attempts = int((message.headers or {}).get(ATTEMPTS_HEADER) or 0) + 1
        if attempts >= settings.EVENT_CONSUMER_MAX_ATTEMPTS:
            logger.exception("%s failed to apply an event %d times, dead-lettering it", consumer.name, attempts)
            from apps.common.rejections import event_rejected

            event_rejected(consumer=consumer.name, envelope=body,
                           reason=f"failed {attempts} times, last: {traceback.format_exc(limit=3)}")
            message.reject(requeue=False)
        else:
            logger.exception("%s failed to apply an event (attempt %d); retrying in %ss", consumer.name, attempts,
                             settings.EVENT_CONSUMER_RETRY_DELAY_SECONDS)
            _park_for_retry(consumer, message, attempts)
    else:
        message.ack()
    finally:
        close_old_connections()


def _park_for_retry(consumer: EventConsumer, message, attempts: int) -> None:
    try:
        Producer(message.channel).publish(
            message.body, exchange="", routing_key=consumer.retry_queue_name, retry=False, delivery_mode=2,
            content_type=message.content_type, content_encoding=message.content_encoding,
            headers={**(message.headers or {}), ATTEMPTS_HEADER: attempts},
            **{key: value for key, value in message.properties.items() if key in ("message_id", "type")},
        )
    except Exception:
        logger.exception("%s could not park an event for retry; the broker redelivers it", consumer.name)
        message.requeue()
    else:
        message.ack()
