"""The outbox relay against the real RabbitMQ: a test queue bound to the domain-events exchange
reads what the relay published."""

import dataclasses
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from kombu import Connection, Exchange, Queue

from apps.common.messaging import events
from apps.common.messaging.events import DomainEvent, event_record
from apps.common.messaging.relay import BrokerPublisher, outbox_purge, outbox_relay
from apps.common.models import OutboxEvent
from config.celery_app import app

ROOT = Path(__file__).resolve().parents[2]
EXCHANGE = Exchange("domain-events", type="topic", durable=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ParcelWeighed(DomainEvent):
    event_type = "relaytest.parcel_weighed"
    parcel_id: uuid.UUID
    grams: int

    def aggregate_id(self):
        return self.parcel_id


@pytest.fixture
def no_commit_hooks(monkeypatch):
    """Record events without the after-commit relay, so each test drives the relay itself."""
    monkeypatch.setattr(events, "relay_after_commit", lambda event_id: None)


def record(count=1) -> list[OutboxEvent]:
    rows = []
    with transaction.atomic():
        for grams in range(count):
            rows.append(event_record(ParcelWeighed(parcel_id=uuid.uuid4(), grams=grams)))
    return rows


class BoundQueue:
    """An exclusive queue bound to relaytest.#: receives what the relay publishes."""

    def __init__(self, **queue_arguments):
        self.connection = Connection(app.conf.broker_url)
        self.channel = self.connection.channel()
        self.queue = Queue(f"relaytest-{uuid.uuid4().hex[:8]}", EXCHANGE, routing_key="relaytest.#", exclusive=True,
                           queue_arguments=queue_arguments or None)(self.channel)
        EXCHANGE(self.channel).declare()
        self.queue.declare()

    def drain(self, expected: int | None = None, timeout: float = 10.0):
        messages, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.queue.get(no_ack=True, accept=["json"])
            if message is not None:
                messages.append(message)
                continue
            if expected is None or len(messages) >= expected:
                break
            time.sleep(0.05)
        return messages

    def close(self):
        self.connection.release()


@pytest.fixture
def events_queue():
    queue = BoundQueue()
    yield queue
    queue.close()


@pytest.mark.django_db(transaction=True)
def test_a_pending_event_is_published_persistently_with_its_envelope_then_marked(no_commit_hooks, events_queue):
    (row,) = record()
    report = outbox_relay(publisher=BrokerPublisher())
    assert report.published == 1
    (message,) = events_queue.drain(expected=1)
    assert message.delivery_info["routing_key"] == "relaytest.parcel_weighed"
    assert message.properties["delivery_mode"] == 2  # persistent
    assert message.properties["message_id"] == str(row.id)
    assert message.payload == OutboxEvent.objects.get(pk=row.pk).envelope()
    row.refresh_from_db()
    assert row.status == OutboxEvent.Status.PUBLISHED and row.published_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_never_publish_one_event_twice(no_commit_hooks, events_queue):
    rows = record(40)
    start = threading.Barrier(2)
    reports = []

    def relay():
        start.wait()
        try:
            reports.append(outbox_relay(publisher=BrokerPublisher(), batch_size=3))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    published_ids = [message.properties["message_id"] for message in events_queue.drain(expected=40)]
    assert sorted(published_ids) == sorted(str(row.id) for row in rows)  # each exactly once
    assert sum(report.published for report in reports) == 40
    assert not OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).exists()


CRASHING_RELAY = """
import os, signal
import django
django.setup()
from apps.common.messaging.relay import BrokerPublisher, outbox_relay

class DiesAfterPublishing(BrokerPublisher):
    def publish(self, envelopes):
        assert super().publish(envelopes).confirmed == len(envelopes)  # confirmed by the broker...
        os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before marking them

outbox_relay(publisher=DiesAfterPublishing())
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_relay_killed_between_publishing_and_marking_leaves_the_event_to_be_republished(no_commit_hooks,
                                                                                           events_queue):
    (row,) = record()
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    crashed = subprocess.run([sys.executable, "-c", CRASHING_RELAY], cwd=ROOT, env=env, timeout=120,
                             capture_output=True, text=True)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    (first,) = events_queue.drain(expected=1)
    row.refresh_from_db()
    assert row.status == OutboxEvent.Status.PENDING  # its transaction died with the process

    # The next pass publishes it again, with the same event id (consumers dedupe on it)
    deadline = time.monotonic() + 15
    while outbox_relay(publisher=BrokerPublisher()).published == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # PostgreSQL releases the dead session's row lock as it notices
    (second,) = events_queue.drain(expected=1)
    assert first.properties["message_id"] == second.properties["message_id"] == str(row.id)
    assert first.payload == second.payload
    row.refresh_from_db()
    assert row.status == OutboxEvent.Status.PUBLISHED


@pytest.mark.django_db(transaction=True)
def test_a_broker_refusal_leaves_the_event_pending_with_the_error(no_commit_hooks):
    # Given a bound queue that is full and refuses new messages: the broker nacks the publish
    full = BoundQueue(**{"x-max-length": 0, "x-overflow": "reject-publish"})
    (row,) = record()
    try:
        report = outbox_relay(publisher=BrokerPublisher())
    finally:
        full.close()
    assert (report.published, report.failed) == (0, 1)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxEvent.Status.PENDING, 1)
    assert "refused" in row.last_error

    # Once the broker accepts again, the next pass publishes it
    events_queue = BoundQueue()
    try:
        assert outbox_relay(publisher=BrokerPublisher()).published == 1
        assert [m.properties["message_id"] for m in events_queue.drain(expected=1)] == [str(row.id)]
    finally:
        events_queue.close()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxEvent.Status.PUBLISHED, 2, "")


@pytest.mark.django_db(transaction=True)
def test_a_refused_event_and_those_after_it_stay_pending_in_order_while_those_before_are_marked(no_commit_hooks):
    # Given a bound queue with room for one message: the broker confirms the first and refuses the rest
    full = BoundQueue(**{"x-max-length": 1, "x-overflow": "reject-publish"})
    first, second, third = record(3)
    try:
        report = outbox_relay(publisher=BrokerPublisher())
        queued = full.drain(expected=1)
    finally:
        full.close()
    assert (report.published, report.failed) == (1, 1)
    assert [message.properties["message_id"] for message in queued] == [str(first.id)]
    statuses = {row.pk: (row.status, row.attempts) for row in OutboxEvent.objects.all()}
    assert statuses == {first.pk: ("published", 1), second.pk: ("pending", 1), third.pk: ("pending", 0)}

    # Once the broker accepts again, the next pass publishes the two others, in their order
    events_queue = BoundQueue()
    try:
        assert outbox_relay(publisher=BrokerPublisher()).published == 2
        assert [m.properties["message_id"] for m in events_queue.drain(expected=2)] == [str(second.id),
                                                                                        str(third.id)]
    finally:
        events_queue.close()


@pytest.mark.django_db(transaction=True)
def test_a_relay_whose_kept_connection_broke_publishes_on_a_new_one(no_commit_hooks, events_queue):
    # Given a relay that published once and keeps its broker connection for the next pass
    record()
    publisher = BrokerPublisher()
    assert outbox_relay(publisher=publisher).published == 1
    kept = publisher._link().connection

    # When that connection breaks while idle (the broker restarted, a network blip)
    kept.connection.transport.sock.shutdown(socket.SHUT_RDWR)
    (row,) = record()

    # Then the next pass publishes on a new connection, and nothing is left pending
    assert outbox_relay(publisher=publisher).published == 1
    assert publisher._link().connection is not kept
    assert len(events_queue.drain(expected=2)) == 2
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxEvent.Status.PUBLISHED, 1)


@pytest.fixture(params=["silent", "refusing"])
def dead_broker_url(request):
    """A broker address that never answers (accepts TCP, says nothing) or refuses connections."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if request.param == "silent":
            listener.listen(8)
            yield f"amqp://commerce:commerce@127.0.0.1:{port}/commerce"
            return
    yield f"amqp://commerce:commerce@127.0.0.1:{port}/commerce"


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_does_not_answer_leaves_the_event_pending(no_commit_hooks, dead_broker_url):
    (row,) = record()
    report = outbox_relay(publisher=BrokerPublisher(dead_broker_url, timeout=0.5))
    assert (report.published, report.failed) == (0, 1)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxEvent.Status.PENDING, 1)
    assert "broker unavailable" in row.last_error


@pytest.mark.django_db(transaction=True)
def test_published_events_stay_as_the_archive_until_the_retention_purges_them(no_commit_hooks):
    old, recent, old_pending = record(3)
    now = timezone.now()
    OutboxEvent.objects.filter(pk=old.pk).update(status="published", published_at=now - dt.timedelta(days=100))
    OutboxEvent.objects.filter(pk=recent.pk).update(status="published", published_at=now - dt.timedelta(days=1))
    OutboxEvent.objects.filter(pk=old_pending.pk).update(occurred_at=now - dt.timedelta(days=200))
    assert outbox_purge(older_than=dt.timedelta(days=90)) == 1
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {recent.pk, old_pending.pk}


@pytest.mark.django_db(transaction=True)
def test_a_committed_event_is_relayed_without_waiting_for_the_sweep(events_queue):
    # With tasks run in-process (the test settings, the embedded default) the after-commit hook
    # relays at once, to the in-process consumers; none is bound to relaytest.*
    (row,) = record()
    row.refresh_from_db()
    assert row.status == OutboxEvent.Status.PUBLISHED
    assert events_queue.drain() == []  # in-process: nothing went to the broker


def test_the_sweep_and_the_purge_are_scheduled():
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"common.outbox_relay", "common.outbox_purge"} <= schedule
