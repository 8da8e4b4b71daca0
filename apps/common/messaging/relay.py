"""The outbox relay: publishes pending outbox rows to the domain-events topic exchange.

One pass takes a batch of pending rows with SELECT ... FOR UPDATE SKIP LOCKED in a transaction,
publishes them all (persistent, routing key = event type), waits once for the broker's publisher
confirms of the whole batch, marks the confirmed ones published in one UPDATE and commits. So
two relays never publish one row in the same pass; a relay that dies after publishing and
before its commit leaves the rows pending, and the next pass republishes them with the same
event id (consumers dedupe in their inbox); a broker that refuses a row (nack) or does not
confirm it in time leaves that row and the ones after it pending (the row with its attempts
and last error), so they are published again, in order, by a later pass. Each process (each
thread) keeps its broker connection from pass to pass and opens a new one when it broke.

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
import time
from collections.abc import Sequence
from typing import Protocol

import amqp.exceptions
from celery import current_app, shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F
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


@dataclasses.dataclass(frozen=True)
class BatchPublished:
    """How a batch went: the first `confirmed` envelopes are confirmed, in order; `error` says
    why the next one was not ("" when all were)."""

    confirmed: int
    error: str = ""


class Publisher(Protocol):
    def publish(self, envelopes: Sequence[dict]) -> BatchPublished: ...


class _Link:
    """One broker connection and its channel in confirm mode, kept between passes."""

    def __init__(self, url: str, timeout: float):
        self.connection = Connection(url, connect_timeout=timeout)
        self.connection.connect()
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        self.published = 0  # delivery tags: the broker numbers this channel's publishes from 1
        self.acked: set[int] = set()
        self.nacked: set[int] = set()
        self.settled_upto = 0  # every tag up to this one is acked or nacked ("multiple" answers)
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        events_exchange_declare(self.channel)
        self.producer = Producer(self.channel, exchange=events_exchange(), serializer="json")

    def _settle(self, into: set[int], tag: int, multiple: bool) -> None:
        if multiple:
            into.update(range(self.settled_upto + 1, tag + 1))
        else:
            into.add(tag)

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(self.acked, tag, multiple)
        self._advance()

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._settle(self.nacked, tag, multiple)
        self._advance()

    def _advance(self) -> None:
        while self.settled_upto + 1 in self.acked or self.settled_upto + 1 in self.nacked:
            self.settled_upto += 1

    def publish(self, envelopes: Sequence[dict], *, timeout: float) -> BatchPublished:
        first = self.published + 1
        for envelope in envelopes:
            self.producer.publish(
                envelope, routing_key=envelope["type"], delivery_mode=2, retry=False,
                message_id=envelope["id"], type=envelope["type"],
                headers={"traceparent": envelope.get("traceparent") or ""}, timeout=timeout,
            )
            self.published += 1
        deadline = time.monotonic() + timeout
        while self.settled_upto < self.published:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with contextlib.suppress(socket.timeout, TimeoutError):
                self.connection.drain_events(timeout=remaining)
        for index, tag in enumerate(range(first, self.published + 1)):
            if tag in self.nacked:
                return BatchPublished(index, "the broker refused the event (nack)")
            if tag not in self.acked:
                return BatchPublished(index, f"no publisher confirm within {timeout}s")
        self.acked.difference_update(range(first, self.published + 1))
        return BatchPublished(len(envelopes))

    def close(self) -> None:
        with contextlib.suppress(*BROKER_ERRORS):
            self.connection.release()


class BrokerPublisher:
    """Publishes envelopes to RabbitMQ and waits once for the publisher confirms of a batch, on a
    connection this thread keeps between passes (a new one after any failure)."""

    _links = threading.local()

    def __init__(self, url: str | None = None, *, timeout: float | None = None):
        self.url = url or settings.CELERY_BROKER_URL
        self.timeout = settings.OUTBOX_PUBLISH_TIMEOUT_SECONDS if timeout is None else timeout

    def _link(self) -> _Link:
        links = getattr(self._links, "by_url", None)
        if links is None or self._links.pid != os.getpid():  # a forked child opens its own
            links = self._links.by_url = {}
            self._links.pid = os.getpid()
        if self.url not in links:
            try:
                links[self.url] = _Link(self.url, self.timeout)
            except BROKER_ERRORS as exc:
                raise PublishFailed(f"broker unavailable: {exc!r}") from exc
        return links[self.url]

    def _drop(self) -> None:
        link = self._links.by_url.pop(self.url, None)
        if link is not None:
            link.close()

    def publish(self, envelopes: Sequence[dict]) -> BatchPublished:
        # A kept connection may have died while idle (the broker restarted, a heartbeat was
        # missed): then the batch goes out once more on a new one. Republishing is harmless:
        # the events keep their ids and consumers dedupe them.
        for attempt in (1, 2):
            try:
                link = self._link()
            except PublishFailed as exc:
                return BatchPublished(0, str(exc))
            try:
                outcome = link.publish(envelopes, timeout=self.timeout)
            except BROKER_ERRORS as exc:
                self._drop()
                if attempt == 1:
                    continue
                return BatchPublished(0, f"publish failed: {exc!r}")
            if outcome.error:
                self._drop()  # unconfirmed tags would otherwise be settled in a later batch
            return outcome
        raise AssertionError("unreachable")


class InProcessPublisher:
    """The embedded default's broker: applies each event to the registered consumers now.

    An event a consumer can never apply is logged and skipped, as the broker would dead-letter
    it; any other failure leaves the row pending for the next pass (inboxes skip the consumers
    that already applied it)."""

    def publish(self, envelopes: Sequence[dict]) -> BatchPublished:
        for index, envelope in enumerate(envelopes):
            for consumer in consumers_for(envelope["type"]):
                try:
                    event_apply(consumer=consumer, envelope=envelope)
                except InvalidEvent as exc:
                    logger.error("%s cannot apply %s %s: %s", consumer.name, envelope["type"], envelope["id"], exc)
                except Exception as exc:
                    logger.exception("%s failed on %s %s", consumer.name, envelope["type"], envelope["id"])
                    return BatchPublished(index, f"consumer {consumer.name} failed: {exc!r}")
        return BatchPublished(len(envelopes))


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
    """Publish locked rows as one batch; mark the confirmed ones, in order, up to the first that
    was not (it and the rows after it stay pending and keep their order)."""
    outcome = publisher.publish([row.envelope() for row in rows])
    done = outcome.confirmed
    if done:
        OutboxEvent.objects.using(using).filter(pk__in=[row.pk for row in rows[:done]]).update(
            status=OutboxEvent.Status.PUBLISHED, published_at=timezone.now(), attempts=F("attempts") + 1,
            last_error="")
    if done < len(rows):
        OutboxEvent.objects.using(using).filter(pk=rows[done].pk).update(
            attempts=F("attempts") + 1, last_error=outcome.error[:2000])
        logger.warning("outbox event %s %s not published: %s", rows[done].event_type, rows[done].id, outcome.error)
        return done, outcome.error[:2000]
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
