"""Consumers apply each event once through their inbox, however often it arrives; the relay's
in-process mode (no broker) goes through the same inbox."""

import dataclasses
import functools
import threading
import time
import uuid

import pytest
from django.db import connections, transaction
from django.utils import timezone
from kombu import Connection, Consumer

from apps.common.messaging import consumers, events, topology, worker
from apps.common.messaging.consumers import EventConsumer, InvalidEvent, event_apply, topic_matches
from apps.common.messaging.events import DomainEvent, event_record
from apps.common.messaging.relay import BrokerPublisher, InProcessPublisher, outbox_relay
from apps.common.models import OutboxEvent
from apps.notifications.models import InboxEvent as NotificationsInbox
from config.celery_app import app


class Recorder:
    """A consumer's handler that remembers what it applied (and can be told to fail)."""

    def __init__(self):
        self.applied = []
        self.fail_with: Exception | None = None
        self.hold = 0.0

    def __call__(self, event):
        if self.fail_with is not None:
            raise self.fail_with
        time.sleep(self.hold)  # inside the inbox transaction: widens the window for a racing copy
        self.applied.append(event.id)


@pytest.fixture
def handler():
    return Recorder()


@pytest.fixture
def test_consumer(handler, monkeypatch):
    consumer = EventConsumer(name="inbox-test", bindings=("inboxtest.#",), handler=handler,
                             inbox=NotificationsInbox)
    monkeypatch.setattr(consumers, "_REGISTRY", {**consumers._REGISTRY, consumer.name: consumer})
    return consumer


def envelope(**overrides):
    return {"id": str(uuid.uuid4()), "type": "inboxtest.thing_counted", "version": 1,
            "occurred_at": timezone.now().isoformat(), "aggregate_id": "a-1", "data": {"n": 1}, "traceparent": "",
            **overrides}


@pytest.mark.django_db
def test_an_event_delivered_twice_is_applied_once(test_consumer, handler):
    event = envelope()
    assert event_apply(consumer=test_consumer, envelope=event) is True
    assert event_apply(consumer=test_consumer, envelope=dict(event)) is False
    assert handler.applied == [uuid.UUID(event["id"])]
    inbox = test_consumer.inbox.objects.get(consumer="inbox-test")
    assert (str(inbox.event_id), inbox.redeliveries) == (event["id"], 1)


@pytest.mark.django_db
def test_a_handler_that_fails_leaves_no_inbox_row_so_the_redelivery_applies_it(test_consumer, handler):
    event = envelope()
    handler.fail_with = ConnectionError("database away")
    with pytest.raises(ConnectionError):
        event_apply(consumer=test_consumer, envelope=event)
    assert not test_consumer.inbox.objects.filter(consumer="inbox-test").exists()
    handler.fail_with = None
    assert event_apply(consumer=test_consumer, envelope=event) is True
    assert handler.applied == [uuid.UUID(event["id"])]


@pytest.mark.django_db(transaction=True)
def test_two_copies_arriving_at_once_are_applied_once(test_consumer, handler):
    event, start, results = envelope(), threading.Barrier(2), []
    handler.hold = 0.3

    def consume():
        start.wait()
        try:
            results.append(event_apply(consumer=test_consumer, envelope=dict(event)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=consume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, True]
    assert handler.applied == [uuid.UUID(event["id"])]


@pytest.mark.django_db
def test_one_consumers_inbox_does_not_hide_the_event_from_another(test_consumer, handler, monkeypatch):
    other_handler = Recorder()
    other = dataclasses.replace(test_consumer, name="inbox-test-2", handler=other_handler)
    event = envelope()
    event_apply(consumer=test_consumer, envelope=event)
    assert event_apply(consumer=other, envelope=event) is True
    assert len(handler.applied) == len(other_handler.applied) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("broken", [
    {"id": "not-a-uuid"},
    {"occurred_at": "yesterday"},
    {"data": ["not", "an", "object"]},
])
def test_a_malformed_envelope_is_refused_as_invalid(test_consumer, handler, broken):
    with pytest.raises(InvalidEvent):
        event_apply(consumer=test_consumer, envelope=envelope(**broken))
    assert handler.applied == []


@pytest.mark.django_db
def test_data_breaking_the_published_schema_is_refused_as_invalid(test_consumer, handler):
    contract_bound = dataclasses.replace(test_consumer, bindings=("orders.#",))
    with pytest.raises(InvalidEvent, match="breaks its schema"):
        event_apply(consumer=contract_bound, envelope=envelope(type="orders.order_shipped", data={"number": 7}))
    assert handler.applied == []


@pytest.mark.parametrize(("pattern", "key", "matches"), [
    ("orders.#", "orders.order_placed", True),
    ("orders.#", "orders", True),
    ("orders.*", "orders.order_placed", True),
    ("orders.*", "orders.order.placed", False),
    ("*.order_placed", "orders.order_placed", True),
    ("#.order_placed", "a.b.order_placed", True),
    ("payments.#", "orders.order_placed", False),
    ("orders.order_placed", "orders.order_placed", True),
])
def test_bindings_follow_amqp_topic_rules(pattern, key, matches):
    assert topic_matches(pattern, key) is matches


# --- In-process (no broker): the relay hands events to the consumers through the same inbox ---

@dataclasses.dataclass(frozen=True, kw_only=True)
class ThingCounted(DomainEvent):
    event_type = "inboxtest.thing_counted"
    thing_id: uuid.UUID

    def aggregate_id(self):
        return self.thing_id


def record() -> OutboxEvent:
    with transaction.atomic():
        return event_record(ThingCounted(thing_id=uuid.uuid4()))


@pytest.fixture
def no_commit_hooks(monkeypatch):
    monkeypatch.setattr(events, "relay_after_commit", lambda event_id: None)


@pytest.mark.django_db(transaction=True)
def test_in_process_a_republished_event_is_applied_once(test_consumer, handler, no_commit_hooks):
    row = record()
    assert outbox_relay(publisher=InProcessPublisher()).published == 1
    OutboxEvent.objects.filter(pk=row.pk).update(status="pending")  # as if the mark had been lost
    assert outbox_relay(publisher=InProcessPublisher()).published == 1
    assert handler.applied == [row.id]


@pytest.mark.django_db(transaction=True)
def test_in_process_a_failing_consumer_keeps_the_event_pending_for_the_next_pass(test_consumer, handler,
                                                                                 no_commit_hooks):
    row = record()
    handler.fail_with = ConnectionError("smtp relay away")
    report = outbox_relay(publisher=InProcessPublisher())
    row.refresh_from_db()
    assert (report.failed, row.status, row.attempts) == (1, OutboxEvent.Status.PENDING, 1)
    assert "inbox-test failed" in row.last_error
    handler.fail_with = None
    assert outbox_relay(publisher=InProcessPublisher()).published == 1
    assert handler.applied == [row.id]


@pytest.mark.django_db(transaction=True)
def test_in_process_an_event_a_consumer_can_never_apply_is_set_aside(test_consumer, handler, no_commit_hooks,
                                                                     caplog):
    row = record()
    handler.fail_with = InvalidEvent("no such thing")
    assert outbox_relay(publisher=InProcessPublisher()).published == 1  # not retried forever
    assert "inbox-test cannot apply inboxtest.thing_counted" in caplog.text
    row.refresh_from_db()
    assert row.status == OutboxEvent.Status.PUBLISHED


# --- In a worker: the same callback the worker's consumer step runs, on the real RabbitMQ ---

@pytest.fixture
def broker_consumer(handler, monkeypatch, settings):
    """A consumer with its own fresh queues on the real broker (deleted afterwards)."""
    settings.EVENT_CONSUMER_RETRY_DELAY_SECONDS = 1
    settings.EVENT_CONSUMER_MAX_ATTEMPTS = 3
    consumer = EventConsumer(name=f"inbox-test-{uuid.uuid4().hex[:8]}", bindings=("inboxtest.#",), handler=handler,
                             inbox=NotificationsInbox)
    monkeypatch.setattr(consumers, "_REGISTRY", {**consumers._REGISTRY, consumer.name: consumer})
    with Connection(app.conf.broker_url) as connection:
        channel = connection.channel()
        topology.consumers_topology_declare(channel, [consumer])
        yield consumer, channel
        for name in (consumer.queue_name, consumer.retry_queue_name, consumer.dead_queue_name):
            channel.queue_delete(name)


def consume_until(channel, consumer, done, timeout=20.0):
    """Run the worker step's callback on what arrives in the consumer's queue."""
    kombu_consumer = Consumer(channel, queues=[topology.consumer_queue(consumer)], accept=["json"],
                              callbacks=[functools.partial(worker._on_message, consumer)])
    deadline = time.monotonic() + timeout
    with kombu_consumer:
        while not done() and time.monotonic() < deadline:
            try:
                channel.connection.client.drain_events(timeout=0.5)
            except TimeoutError:
                continue
    return done()


def publish() -> OutboxEvent:
    row = record()
    assert outbox_relay(publisher=BrokerPublisher()).published == 1
    return row


@pytest.mark.django_db(transaction=True)
def test_in_a_worker_a_failing_handler_gets_the_event_back_after_the_retry_delay(broker_consumer, handler,
                                                                                 no_commit_hooks):
    consumer, channel = broker_consumer
    calls = []

    def fails_once(event):
        calls.append(event.id)
        if len(calls) == 1:
            raise ConnectionError("reporting database away")
        handler.applied.append(event.id)

    flaky = dataclasses.replace(consumer, handler=fails_once)
    consumers._REGISTRY[consumer.name] = flaky
    row = publish()
    assert consume_until(channel, flaky, lambda: handler.applied), "the event never came back"
    assert calls == [row.id, row.id]
    assert handler.applied == [row.id]


def dead_letters(channel, consumer) -> list:
    queue = topology.consumer_dead_queue(consumer)(channel)
    messages = []
    while (message := queue.get(no_ack=True, accept=["json"])) is not None:
        messages.append(message)
    return messages


@pytest.mark.django_db(transaction=True)
def test_in_a_worker_an_event_that_keeps_failing_is_dead_lettered_after_the_last_attempt(broker_consumer, handler,
                                                                                       no_commit_hooks):
    consumer, channel = broker_consumer
    handler.fail_with = ConnectionError("still away")
    row = publish()
    found = []
    assert consume_until(channel, consumer, lambda: found.extend(dead_letters(channel, consumer)) or found)
    (message,) = found
    assert message.payload["id"] == str(row.id)
    assert message.headers[worker.ATTEMPTS_HEADER] == 2  # parked twice, dead on the third failure
    assert handler.applied == []


@pytest.mark.django_db(transaction=True)
def test_in_a_worker_an_event_that_can_never_be_applied_is_dead_lettered_at_once(broker_consumer, handler,
                                                                              no_commit_hooks):
    consumer, channel = broker_consumer
    handler.fail_with = InvalidEvent("unknown thing")
    row = publish()
    found = []
    assert consume_until(channel, consumer, lambda: found.extend(dead_letters(channel, consumer)) or found)
    assert [m.payload["id"] for m in found] == [str(row.id)]
    assert worker.ATTEMPTS_HEADER not in (found[0].headers or {})
