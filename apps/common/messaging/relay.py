"""The outbox relay: publishes pending outbox rows to the domain-events topic exchange.

One pass takes a batch of pending rows with SELECT ... FOR UPDATE SKIP LOCKED in a transaction,
publishes each (persistent, routing key = event type, publisher confirms), marks it published
and commits. So two relays never publish one row in the same pass; a relay that dies after
publishing and before its commit leaves the rows pending, and the next pass republishes them
with the same event id (consumers dedupe in their inbox); a broker that refuses (nack) or does
not answer in time leaves the row pending with its attempts and last error recorded.

It runs after every commit that recorded an event (apps.common.messaging.events.event_record calls
relay_after_commit, which raises a flag that a background thread turns into an enqueued pass,
so the request never waits on the broker) and as a periodic sweep (beat). With tasks run
eagerly (the embedded default, no broker) it hands events in-process to the registered
consumers instead, through the same inbox. Published rows stay as the event archive until
`outbox_purge` removes those older than OUTBOX_RETENTION_DAYS."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Protocol

import amqp.exceptions
from celery import current_app, shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu import Connection, Producer
from kombu.exceptions import KombuError

from apps.common.messaging.consumers import consumers_for, event_apply
from apps.common.messaging.envelope import InvalidEvent
from apps.common.messaging.topology import events_exchange, events_exchange_declare
from apps.common.models import OutboxEvent
from apps.common.observability.degraded import dependency_failed

logger = logging.getLogger(__name__)

# What a refusing, unreachable or silent broker raises while we connect or publish.
BROKER_ERRORS = (OSError, socket.timeout, KombuError, amqp.exceptions.AMQPError, amqp.exceptions.MessageNacked)


class PublishFailed(Exception):
    """The event was not confirmed by the broker (or a consumer failed in-process)."""


Publish = Callable[[dict], None]


class Publisher(Protocol):
    def session(self) -> contextlib.AbstractContextManager[Publish]: ...


class BrokerPublisher:
    """Publishes envelopes to RabbitMQ and waits for each publisher confirm."""

    def __init__(self, url: str | None = None, *, timeout: float | None = None):
        self.url = url or settings.CELERY_BROKER_URL
        self.timeout = settings.OUTBOX_PUBLISH_TIMEOUT_SECONDS if timeout is None else timeout

    @contextlib.contextmanager
    def session(self) -> Iterator[Publish]:
        connection = Connection(self.url, transport_options={"confirm_publish": True},
                                connect_timeout=self.timeout)
        try:
            try:
                connection.connect()
                channel = connection.channel()
                events_exchange_declare(channel)
            except BROKER_ERRORS as exc:
                raise PublishFailed(f"broker unavailable: {exc!r}") from exc
            producer = Producer(channel, exchange=events_exchange(), serializer="json")

            def publish(envelope: dict) -> None:
                try:
                    producer.publish(
                        envelope, routing_key=envelope["type"], delivery_mode=2, retry=False,
                        message_id=envelope["id"], type=envelope["type"],
                        headers={"traceparent": envelope.get("traceparent") or ""},
                        timeout=self.timeout, confirm_timeout=self.timeout,
                    )
                except amqp.exceptions.MessageNacked as exc:
                    raise PublishFailed("the broker refused the event (nack)") from exc
                except BROKER_ERRORS as exc:
                    raise PublishFailed(f"publish failed: {exc!r}") from exc

            yield publish
        finally:
            with contextlib.suppress(*BROKER_ERRORS):
                connection.release()


class InProcessPublisher:
    """The embedded default's broker: applies each event to the registered consumers now.

    An event a consumer can never apply is logged and skipped, as the broker would dead-letter
    it; any other failure leaves the row pending for the next pass (inboxes skip the consumers
    that already applied it)."""

    @contextlib.contextmanager
    def session(self) -> Iterator[Publish]:
        def publish(envelope: dict) -> None:
            for consumer in consumers_for(envelope["type"]):
                try:
                    event_apply(consumer=consumer, envelope=envelope)
                except InvalidEvent as exc:
                    logger.error("%s cannot apply %s %s: %s", consumer.name, envelope["type"], envelope["id"], exc)
                except Exception as exc:
                    logger.exception("%s failed on %s %s", consumer.name, envelope["type"], envelope["id"])
                    raise PublishFailed(f"consumer {consumer.name} failed: {exc!r}") from exc

        yield publish


def default_publisher() -> Publisher:
    """In-process when tasks run eagerly (no broker to publish to), else RabbitMQ."""
    return InProcessPublisher() if current_app.conf.task_always_eager else BrokerPublisher()


@dataclasses.dataclass(frozen=True)
class RelayReport:
    published: int = 0
    failed: int = 0
    last_error: str = ""


def outbox_relay(*, using: str = "default", publisher: Publisher | None = None,
                 batch_size: int | None = None, max_batches: int = 100) -> RelayReport:
    """One relay pass: publish pending rows, oldest first, until none is left unlocked, the
    broker fails, or `max_batches` batches are done."""
    publisher = publisher or default_publisher()
    batch_size = batch_size or settings.OUTBOX_RELAY_BATCH_SIZE
    published = failed = 0
    last_error = ""
    for _ in range(max_batches):
        with transaction.atomic(using=using):
            rows = list(
                OutboxEvent.objects.using(using).select_for_update(skip_locked=True)
                .filter(status=OutboxEvent.Status.PENDING).order_by("occurred_at", "id")[:batch_size]
            )
            if not rows:
                break
            done, error = _publish_rows(rows, publisher, using)
        published += done
        if error:
            failed, last_error = failed + 1, error
            break
        if len(rows) < batch_size:
            break
    return RelayReport(published=published, failed=failed, last_error=last_error)


def _publish_rows(rows: list[OutboxEvent], publisher: Publisher, using: str) -> tuple[int, str]:
    """Publish locked rows in order; stop at the first failure (later rows keep their order)."""
    done = 0
    try:
        with publisher.session() as publish:
            for row in rows:
                row.attempts += 1
                try:
                    publish(row.envelope())
                except PublishFailed as exc:
                    row.last_error = str(exc)[:2000]
                    row.save(using=using, update_fields=["attempts", "last_error"])
                    logger.warning("outbox event %s %s not published: %s", row.event_type, row.id, exc)
                    return done, row.last_error
                row.status = OutboxEvent.Status.PUBLISHED
                row.published_at = timezone.now()
                row.last_error = ""
                row.save(using=using, update_fields=["status", "published_at", "attempts", "last_error"])
                done += 1
    except PublishFailed as exc:  # the session itself could not start (broker unreachable)
        row = rows[done]
        row.attempts += 1
        row.last_error = str(exc)[:2000]
        row.save(using=using, update_fields=["attempts", "last_error"])
        logger.warning("outbox relay cannot reach the broker: %s", exc)
        return done, row.last_error
    return done, ""


def outbox_purge(*, using: str = "default", older_than: dt.timedelta | None = None, chunk: int = 1000) -> int:
    """Delete published events older than the retention (never pending ones)."""
    if older_than is None:
        if settings.OUTBOX_RETENTION_DAYS <= 0:
            return 0
        older_than = dt.timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    cutoff = timezone.now() - older_than
    stale = OutboxEvent.objects.using(using).filter(status=OutboxEvent.Status.PUBLISHED, published_at__lt=cutoff)
    deleted = 0
    while ids := list(stale.values_list("id", flat=True)[:chunk]):
        count, _ = OutboxEvent.objects.using(using).filter(id__in=ids).delete()
        deleted += count
    return deleted


# --- Scheduling ------------------------------------------------------------------------------

@shared_task(name="common.outbox_relay", ignore_result=True)
def outbox_relay_task() -> int:
    return outbox_relay().published


@shared_task(name="common.outbox_purge", ignore_result=True)
def outbox_purge_task() -> int:
    return outbox_purge()


class RelayTrigger:
    """Asks the broker for a relay pass from a daemon thread, never from the committing request.

    The outbox row is the promise: the request must not wait on the broker. With RabbitMQ down,
    enqueuing the pass in the request took seconds of connection retries per order. Requests only
    raise a flag; the thread clears it and enqueues one pass, which publishes every pending row,
    so commits that arrive meanwhile share the next pass. If the enqueue fails, the beat sweep
    (OUTBOX_RELAY_SWEEP_SECONDS) publishes the rows. A forked process starts its own thread."""

    def __init__(self):
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._app = None

    def pull(self) -> None:
        celery_app = current_app._get_current_object()
        if celery_app.conf.task_always_eager:
            outbox_relay_task.apply()  # no broker: the pass runs here (the embedded default, tests)
            return
        self._app = celery_app  # the thread enqueues through the caller's app, not its own thread's
        self._ensure_thread()
        self._wanted.set()

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._wanted = threading.Event()
                threading.Thread(target=self._run, args=(self._wanted,), name="outbox-relay-trigger",
                                 daemon=True).start()
                self._pid = os.getpid()

    def _run(self, wanted: threading.Event) -> None:
        while True:
            wanted.wait()
            wanted.clear()
            try:
                self._app.tasks[outbox_relay_task.name].apply_async(retry=False)
            except Exception as exc:
                dependency_failed(dependency="broker", component="outbox relay trigger", error=exc,
                                  fallback="the periodic sweep publishes the pending events")


relay_trigger = RelayTrigger()


def relay_after_commit(event_id) -> None:
    """Called by apps.common.messaging.events.event_record after the commit that recorded an event: a
    relay pass for it. Never blocks on the broker and never raises into the request."""
    try:
        relay_trigger.pull()
    except Exception:
        logger.exception("could not run the outbox relay for %s; the periodic sweep will publish it", event_id)
