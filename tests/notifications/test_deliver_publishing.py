"""The consumer hands an event's deliveries to the task queue together (one wait for the broker's
confirms), and a delivery whose task never reached the queue is still delivered, by the resume
sweep. Real RabbitMQ and a real worker process."""

import contextlib
import logging
import socket
import threading

import pytest
from django.db import connection
from django.test import override_settings

from apps.common.messaging.consumers import consumer_get, event_apply
from apps.notifications import publishing
from apps.notifications.models import Channel, Delivery
from apps.notifications.services.delivery import deliveries_resume
from config.celery_app import app
from tests.notifications.conftest import free_port, wait_for
from tests.notifications.factories import EnvelopeFactory, WebhookEndpointFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("broker_mode", "worker")]


@contextlib.contextmanager
def broker_unreachable():
    """Publishes go to a port nobody listens on (what a broker outage looks like to a publisher)."""
    previous = app.conf.broker_write_url
    app.conf.broker_write_url = f"amqp://commerce:commerce@127.0.0.1:{free_port()}//"
    try:
        yield
    finally:
        app.conf.broker_write_url = previous


def apply_in_fresh_thread(*envelopes, between=None) -> None:
    """The consumer's step in a thread of its own, as in a worker process that just started (no
    broker connection kept from earlier publishes); `between` runs after each event but the last."""
    failure = []

    def run():
        try:
            for index, envelope in enumerate(envelopes):
                if index and between:
                    between()
                event_apply(consumer=consumer_get("notifications"), envelope=envelope)
        except Exception as exc:  # surfaced below, in the test's thread
            failure.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not failure, failure


def test_every_delivery_of_an_event_is_delivered(receiver, worker):
    # Given three endpoints subscribed to orders placed
    endpoints = [WebhookEndpointFactory(url=f"{receiver.url}/hooks/{index}") for index in range(3)]
    envelope = EnvelopeFactory()
    # When the consumer applies one such event (an email and three webhooks, enqueued together)
    event_apply(consumer=consumer_get("notifications"), envelope=envelope)
    # Then the worker delivers each of them once
    deliveries = Delivery.objects.filter(event_id=envelope["id"])
    assert wait_for(lambda: not deliveries.exclude(status=Delivery.Status.DELIVERED).exists(), timeout=60), \
        worker.output()[-3000:]
    assert sorted(deliveries.values_list("channel", flat=True)) == ["email", "webhook", "webhook", "webhook"]
    assert sorted(request.path for request in receiver.requests) == [f"/hooks/{index}" for index in range(3)]
    assert {request.headers["webhook-id"] for request in receiver.requests} == {envelope["id"]}
    assert {d.endpoint_id for d in deliveries if d.channel == Channel.WEBHOOK} == {e.pk for e in endpoints}


def test_a_delivery_whose_task_was_not_published_is_delivered_by_the_resume_sweep(receiver, worker, caplog):
    # Given an event applied while the broker could not be reached: its delivery is committed, its
    # task never made it to the queue, and the log says so
    caplog.set_level(logging.ERROR, logger="apps.notifications.services.fanout")
    WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    envelope = EnvelopeFactory()
    with broker_unreachable():
        apply_in_fresh_thread(envelope)
    delivery = Delivery.objects.get(event_id=envelope["id"], channel=Channel.WEBHOOK)
    assert delivery.status == Delivery.Status.PENDING
    assert any("the resume sweep will" in record.getMessage() and str(delivery.pk) in record.getMessage()
               for record in caplog.records), caplog.text
    assert receiver.requests == []
    # When the resume sweep runs after the grace
    with override_settings(NOTIFICATIONS_RESUME_GRACE_SECONDS=0):
        assert deliveries_resume() == 2  # the webhook and the customer's email
    # Then the worker delivers it
    assert wait_for(lambda: Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.DELIVERED, timeout=60), \
        worker.output()[-3000:]
    assert [request.headers["webhook-id"] for request in receiver.requests] == [envelope["id"]]


def broker_hangs_up() -> None:
    """The kept connection's socket is shut, as when the broker restarts."""
    publishing._links.link.connection.connection.transport.sock.shutdown(socket.SHUT_RDWR)


def test_after_the_kept_broker_connection_broke_the_next_deliveries_are_enqueued_on_a_new_one(receiver, worker):
    # Given a consumer that enqueued an event's deliveries, then lost its broker connection
    WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    first, second = EnvelopeFactory(), EnvelopeFactory()
    apply_in_fresh_thread(first, second, between=broker_hangs_up)
    # Then the deliveries of the event applied after it were delivered too, without the sweep
    assert wait_for(lambda: not Delivery.objects.exclude(status=Delivery.Status.DELIVERED).exists()
                    and Delivery.objects.count() == 4, timeout=60), worker.output()[-3000:]
    assert sorted(request.headers["webhook-id"] for request in receiver.requests) == sorted([first["id"], second["id"]])
