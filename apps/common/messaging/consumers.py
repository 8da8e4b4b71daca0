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

Celery workers consume the queues (apps.common.messaging.worker.EventConsumersStep, added to
the worker by config.celery_app); in the embedded default (tasks run eagerly, no broker) the relay hands each
event to the same handlers in-process, through the same inbox."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import Any

import jsonschema
from django.conf import settings

from apps.common.messaging.envelope import InvalidEvent, ReceivedEvent
from apps.common.messaging.inbox import inbox_apply
from apps.common.messaging.rejections import event_rejected
from apps.common.messaging.schemas import UnknownEventSchema, validate_event_data
from apps.common.observability.metrics import observe_handler
from apps.common.observability.telemetry import continue_trace

logger = logging.getLogger(__name__)


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
    try:
        validate_event_data(event.type, event.version, event.data)
    except UnknownEventSchema:
        return  # no contract published for this type yet: the handler reads defensively
    except jsonschema.ValidationError as exc:
        where = f"{event.type} v{event.version} breaks its schema at {exc.json_path}"
        raise InvalidEvent(f"{where}: {exc.message}") from exc
