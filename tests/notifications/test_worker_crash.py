"""A worker killed with SIGKILL in the middle of a webhook request: RabbitMQ redelivers the
unacknowledged task to another worker, which takes over the dead attempt's claim and sends
again, with the same webhook-id. The receiver dedupes on it, as Standard Webhooks receivers do:
the event is processed once. (No sender can know whether a request cut off mid-flight arrived,
so the second request itself cannot be avoided; the claim only stops two live workers sending
at once.)"""

import threading

import pytest
from django.db import transaction

from apps.common.messaging.events import event_record
from apps.notifications.models import Channel, Delivery, DeliveryAttempt
from tests.notifications.conftest import wait_for
from tests.notifications.factories import OrderPlacedDataFactory, RecordedEvent, WebhookEndpointFactory
from tests.notifications.worker import Worker, purge_queues

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker_mode")]


@pytest.fixture
def workers():
    started = []

    def start():
        started.append(Worker().wait_ready())
        return started[-1]

    purge_queues()
    yield start
    for worker in started:
        worker.stop()
    purge_queues()


def test_a_worker_killed_mid_delivery_is_replaced_and_the_event_is_processed_once(receiver, workers):
    # Given a receiver that holds the first request open, and one worker
    endpoint = WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    release = threading.Event()
    receiver.replies = [{"status": 200, "hold": release}]
    first = workers()
    with transaction.atomic():
        event_id = str(event_record(RecordedEvent(payload=OrderPlacedDataFactory())).id)

    # When the worker is killed while the receiver has the request
    assert receiver.first_request.wait(60), first.output()[-3000:]
    first.kill()
    release.set()

    # Then another worker gets the redelivered task and the delivery completes
    second = workers()
    assert wait_for(lambda: Delivery.objects.filter(event_id=event_id, channel=Channel.WEBHOOK,
                                                    status=Delivery.Status.DELIVERED).exists(), timeout=60), \
        second.output()[-3000:]
    delivery = Delivery.objects.get(event_id=event_id, channel=Channel.WEBHOOK, endpoint=endpoint)
    assert list(delivery.attempt_rows.values_list("outcome", flat=True)) == [
        DeliveryAttempt.Outcome.INTERRUPTED, DeliveryAttempt.Outcome.SUCCESS]
    # Two requests reached the receiver with one webhook-id; it processed the event once
    assert [r.headers["webhook-id"] for r in receiver.requests] == [event_id, event_id]
    assert list(receiver.processed) == [event_id]
