"""A prefork worker whose pool child dies keeps its database connections. The new child used to
close the connection pool it inherited from the worker's main process: closing a psycopg
connection sends the server a Terminate over the socket both processes share, so the main
process (which runs the event consumers) found its pooled connections closed, parked the next
events for the retry delay, and the next order's webhook took 30 s instead of 0.2 s."""

import os
import signal

import pytest
from django.db import transaction

from apps.common.messaging.events import event_record
from apps.notifications.models import Channel, Delivery
from tests.notifications.conftest import wait_for
from tests.notifications.factories import OrderPlacedDataFactory, RecordedEvent, WebhookEndpointFactory
from tests.notifications.worker import Worker, purge_queues

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker_mode")]


def children(pid: int) -> set[int]:
    tasks = f"/proc/{pid}/task/{pid}/children"
    with open(tasks) as listing:
        return {int(child) for child in listing.read().split()}


def place_order() -> str:
    with transaction.atomic():
        return str(event_record(RecordedEvent(payload=OrderPlacedDataFactory())).id)


def webhook_delivered(event_id: str) -> bool:
    delivered = Delivery.objects.filter(event_id=event_id, channel=Channel.WEBHOOK, status=Delivery.Status.DELIVERED)
    return delivered.exists()


@pytest.fixture
def prefork_worker():
    purge_queues()
    # A retry delay far above the bound below: an event parked for a retry cannot pass
    worker = Worker(pool="prefork", EVENT_CONSUMER_RETRY_DELAY_SECONDS="120").wait_ready()
    yield worker
    worker.stop()
    purge_queues()


def test_the_next_delivery_after_a_pool_child_is_killed_is_not_held_up(receiver, prefork_worker):
    # Given a prefork worker that has delivered one order's webhook (its connections are warm)
    WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    first = place_order()
    assert wait_for(lambda: webhook_delivered(first), timeout=60), prefork_worker.output()[-3000:]
    before = children(prefork_worker.process.pid)
    assert len(before) == 2

    # When an idle pool child is killed and the pool replaces it
    os.kill(min(before), signal.SIGKILL)
    assert wait_for(lambda: len(children(prefork_worker.process.pid) - before) == 1, timeout=60)
    log_before = len(prefork_worker.output())

    # Then the next order's webhook goes out at its usual pace, not after a parked retry
    second = place_order()
    assert wait_for(lambda: webhook_delivered(second), timeout=60), prefork_worker.output()[-3000:]
    after_kill = prefork_worker.output()[log_before:]
    assert "failed to apply an event" not in after_kill, after_kill[-3000:]
    assert "connection is closed" not in after_kill and "server closed the connection" not in after_kill
