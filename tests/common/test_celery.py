"""Celery against the real RabbitMQ and a real worker process started by the test."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from kombu import Connection

from config.celery_app import app, dead_letter_queues

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def worker():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--queues=default",
         "--without-gossip", "--without-mingle", "--loglevel=INFO", "--event-consumers=none",
         f"--hostname=test-{uuid.uuid4().hex[:8]}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return None


def test_a_task_sent_through_rabbitmq_runs_on_a_real_worker(worker):
    # Given a worker consuming the default queue
    token = uuid.uuid4().hex
    # When a task is published to the broker (not run in-process)
    app.send_task("common.heartbeat", args=[token], queue="default")
    # Then the worker runs it and its effect is visible
    assert wait_for(lambda: cache.get(f"heartbeat:{token}")), "the worker never ran the task"


def test_a_message_the_worker_rejects_is_dead_lettered_not_lost(worker):
    # Given a message no worker can handle (an unknown task is rejected without requeue)
    marker = uuid.uuid4().hex
    app.send_task("common.no_such_task", args=[marker], queue="default")

    # Then RabbitMQ dead-letters it to default.dead, declared by the app
    (dead_queue,) = [queue for queue in dead_letter_queues() if queue.name == "default.dead"]

    def find_marker():
        with Connection(app.conf.broker_url) as connection:
            queue = dead_queue(connection.default_channel)
            while (message := queue.get(no_ack=False)) is not None:
                body = message.body if isinstance(message.body, str) else message.body.decode()
                if marker in body:
                    message.ack()
                    return True
                message.requeue()
                return False
        return False

    assert wait_for(find_marker, timeout=60), "the rejected message never reached default.dead"
