"""End to end on the real RabbitMQ with a real worker process: an event recorded in a
transaction is relayed after commit, consumed from notifications.events, and each delivery is a
task on the `notifications` quorum queue, retried with native delayed delivery and dead-lettered
to notifications.dead when it gives up."""

import base64
import hashlib
import hmac

import pytest
from django.core.management import call_command
from django.db import transaction

from apps.common.messaging.events import event_record
from apps.common.messaging.relay import BrokerPublisher, outbox_relay
from apps.common.models import OutboxEvent
from apps.notifications.dead_letters import dead_letters_peek
from apps.notifications.models import Channel, Delivery, InboxEvent
from tests.notifications.conftest import wait_for
from tests.notifications.factories import OrderPlacedDataFactory, RecordedEvent, WebhookEndpointFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("broker_mode", "worker")]


def place_order(**data) -> str:
    """Orders' side: the event is recorded in the order's transaction (the hook relays it)."""
    with transaction.atomic():
        row = event_record(RecordedEvent(payload=OrderPlacedDataFactory(**data)))
    return str(row.id)


def webhook_of(event_id: str) -> Delivery | None:
    return Delivery.objects.filter(event_id=event_id, channel=Channel.WEBHOOK).first()


def signed_by(secret: str, request) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(request.headers["webhook-signature"], expected)


def test_a_receiver_failing_three_times_then_succeeding_gets_the_event_once(receiver, worker):
    # Given an endpoint whose receiver answers 500 three times, then 200
    endpoint = WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    receiver.replies = [{"status": 500}] * 3
    # When an order is placed
    event_id = place_order()
    # Then the worker retries (backoff, delayed delivery on the quorum queue) until it is delivered
    assert wait_for(lambda: (d := webhook_of(event_id)) and d.status == Delivery.Status.DELIVERED, timeout=90), \
        worker.output()[-3000:]
    delivery = webhook_of(event_id)
    assert list(delivery.attempt_rows.values_list("status_code", flat=True)) == [500, 500, 500, 200]
    # and the receiver processed it once: four requests, one webhook-id, every signature valid
    assert [r.headers["webhook-id"] for r in receiver.requests] == [event_id] * 4
    assert list(receiver.processed) == [event_id]
    assert all(signed_by(endpoint.secret, r) for r in receiver.requests)
    # and the customer's confirmation email went out too
    assert Delivery.objects.get(event_id=event_id, channel=Channel.EMAIL).status == Delivery.Status.DELIVERED


def test_a_receiver_that_always_fails_ends_in_the_dead_letter_queue_and_can_be_replayed(receiver, worker):
    WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    receiver.default = {"status": 500}
    event_id = place_order()
    assert wait_for(lambda: (d := webhook_of(event_id)) and d.status == Delivery.Status.DEAD, timeout=90), \
        worker.output()[-3000:]
    delivery = webhook_of(event_id)
    assert delivery.attempts == 4 and len(receiver.requests) == 4
    # The rejected task is in notifications.dead (read from the queue itself)
    assert wait_for(lambda: delivery.pk in dead_letters_peek(), timeout=30)

    # When the receiver is fixed and staff replay the dead deliveries
    receiver.default = {"status": 200}
    call_command("notifications_replay")
    # Then the dead letter is gone from the queue and the delivery goes through
    assert delivery.pk not in dead_letters_peek()
    assert wait_for(lambda: webhook_of(event_id).status == Delivery.Status.DELIVERED, timeout=60), \
        worker.output()[-3000:]
    assert list(receiver.processed) == [event_id]


def test_one_event_published_twice_makes_one_delivery_per_recipient(receiver, worker):
    WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    event_id = place_order(email="twice@example.com")
    assert wait_for(lambda: (d := webhook_of(event_id)) and d.status == Delivery.Status.DELIVERED, timeout=60), \
        worker.output()[-3000:]
    # When the relay publishes it again (as after a crash between publishing and marking)
    OutboxEvent.objects.filter(pk=event_id).update(status=OutboxEvent.Status.PENDING)
    assert outbox_relay(publisher=BrokerPublisher()).published == 1
    # Then the consumer sees the copy and skips it
    assert wait_for(lambda: InboxEvent.objects.filter(event_id=event_id, redeliveries=1).exists(), timeout=60), \
        worker.output()[-3000:]
    assert sorted(Delivery.objects.filter(event_id=event_id).values_list("channel", "recipient")) == [
        ("email", "twice@example.com"), ("webhook", str(webhook_of(event_id).endpoint_id))]
    assert len(receiver.requests) == 1
