"""A request never waits on the broker: the outbox row is the promise, the relay pass is
enqueued from a background thread, and load shedding reads queue depths in the background.
With RabbitMQ stopped, each order took about 2.5 s of connection retries in the request; with
a broker that accepts and never answers, as long as the client's connect timeout."""

import contextlib
import socket
import threading
import time

import pytest
from celery import current_app
from kombu import Connection, Queue

from apps.common.http.backpressure import probe
from apps.common.models import OutboxEvent
from config.celery_app import app
from tests.notifications.conftest import wait_for
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db(databases="__all__")


class SilentBroker:
    """Accepts AMQP connections and never answers: a hung broker."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(client)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.server.getsockname()[1]}//"

    def closed_by_client(self) -> int:
        """Connections the client has already given up on."""
        closed = 0
        for client in list(self.accepted):
            client.setblocking(False)
            try:
                data = client.recv(4096, socket.MSG_PEEK)
            except BlockingIOError:
                continue
            if data == b"":
                closed += 1
            else:  # the AMQP header is waiting: was anything after it closed? read it and look again
                client.recv(4096)
                with contextlib.suppress(BlockingIOError):
                    closed += client.recv(4096, socket.MSG_PEEK) == b""
        return closed

    def close(self):
        self.server.close()
        for client in self.accepted:
            client.close()


def _use_broker(url: str | None) -> None:
    for celery_app in {app, current_app._get_current_object()}:
        # The write URL: the environment's CELERY_BROKER_URL wins over conf.broker_url
        celery_app.conf.broker_write_url = url
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


@pytest.fixture
def silent_broker():
    broker = SilentBroker()
    eager = app.conf.task_always_eager
    _use_broker(broker.url)
    app.conf.task_always_eager = current_app.conf.task_always_eager = False
    yield broker
    app.conf.task_always_eager = current_app.conf.task_always_eager = eager
    _use_broker(None)
    broker.close()


def test_an_order_is_accepted_without_waiting_on_a_hung_broker(customer_client, stock, silent_broker,
                                                               django_capture_on_commit_callbacks):
    stock("MUG-1", "12.50", units=5)
    # When an order is placed while the broker accepts connections and never answers
    with django_capture_on_commit_callbacks(execute=True):
        response = place(customer_client, [("MUG-1", 1)])
    # Then it is accepted at once: by the time the request (and its after-commit work) returned,
    # nothing in it had waited for the broker and given up
    assert response.status_code == 201, response.json()
    assert silent_broker.closed_by_client() == 0
    # and its event waits in the outbox for the sweep
    assert OutboxEvent.objects.filter(aggregate_id=response.json()["id"], status="pending").exists()
    # while the relay pass was asked for in the background
    assert wait_for(lambda: silent_broker.accepted, timeout=30)


def test_many_commits_while_the_broker_is_slow_share_one_pending_relay_pass(customer_client, stock, silent_broker,
                                                                           django_capture_on_commit_callbacks):
    stock("MUG-1", "12.50", units=20)
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert place(customer_client, [("MUG-1", 1)]).status_code == 201
    assert wait_for(lambda: silent_broker.accepted, timeout=30)
    time.sleep(1)  # give a wrongly eager trigger the chance to open more connections
    # One connection attempt is in flight; the other commits wait for its result instead of piling up
    assert len(silent_broker.accepted) == 1


@pytest.fixture
def fresh_probe():
    probe.reset()
    yield
    probe.reset()


def test_the_queue_depth_probe_does_not_hold_a_write_while_the_broker_hangs(customer_client, stock, settings,
                                                                          fresh_probe):
    broker = SilentBroker()
    settings.CELERY_BROKER_URL = broker.url
    stock("MUG-1", "12.50", units=5)
    try:
        # When an order is placed while the broker the load-shedding probe asks accepts and never answers
        response = place(customer_client, [("MUG-1", 1)])
        # Then the order goes through, and nothing in the request waited for the broker and gave up
        assert response.status_code == 201, response.json()
        assert broker.closed_by_client() == 0
        assert wait_for(lambda: broker.accepted, timeout=30)  # the probe asked, in the background
    finally:
        broker.close()


def test_writes_are_shed_when_a_watched_queue_is_past_its_limit(customer_client, stock, settings, fresh_probe):
    # Given a watched queue holding more messages than the limit
    settings.BACKPRESSURE_QUEUES = ["backpressure-test"]
    settings.BACKPRESSURE_QUEUE_LIMIT = 2
    settings.BACKPRESSURE_CHECK_INTERVAL_SECONDS = 0
    stock("MUG-1", "12.50", units=50)
    with Connection(settings.CELERY_BROKER_URL) as broker:
        queue = Queue("backpressure-test", durable=False, auto_delete=False)
        with broker.Producer() as producer:
            for _ in range(3):
                producer.publish({"n": 1}, routing_key=queue.name, declare=[queue], retry=True)
    try:
        # Then writes are shed with 503 and Retry-After once the probe has read the depth
        def shed():
            response = place(customer_client, [("MUG-1", 1)])
            return response if response.status_code == 503 else None

        response = wait_for(shed, timeout=30, interval=0.2)
        assert response is not None
        assert response["Retry-After"] and response.json()["code"] == "overloaded"
    finally:
        with Connection(settings.CELERY_BROKER_URL) as broker:
            broker.default_channel.queue_delete("backpressure-test")
