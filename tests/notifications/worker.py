"""Real Celery workers for the end-to-end tests: subprocesses consuming the `default` and
`notifications` queues and the notifications event queue, on this test run's database."""

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.db import connection
from kombu import Connection

from apps.common.messaging.consumers import consumers_registered
from config.celery_app import app

ROOT = Path(__file__).resolve().parents[2]
# Short backoff so that retries take seconds; loopback receivers allowed in the worker only.
WORKER_ENV = {
    "NOTIFICATIONS_BACKOFF_BASE_SECONDS": "1",
    "NOTIFICATIONS_BACKOFF_MAX_SECONDS": "1",
    "NOTIFICATIONS_MAX_ATTEMPTS": "4",
    "NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
    "LOG_FORMAT": "plain",
}
WORK_QUEUES = ["default", "notifications", "notifications.dead", *(f"celery_delayed_{level}" for level in range(28))]


def purge_queues() -> None:
    """Before: messages left by an earlier run name rows of a database that no longer exists.
    After: the events these tests published also went to every other consumer's queue (reporting)
    and must not reach a worker that runs on another database."""
    event_queues = [name for consumer in consumers_registered()
                    for name in (consumer.queue_name, consumer.retry_queue_name, consumer.dead_queue_name)]
    with Connection(app.conf.broker_url) as broker:
        for name in [*WORK_QUEUES, *event_queues]:
            channel = broker.channel()
            try:
                channel.queue_purge(name)
            except broker.channel_errors:
                pass  # not declared yet
            finally:
                if channel.is_open:
                    channel.close()


class Worker:
    def __init__(self, *, pool: str = "solo", **extra_env: str):
        db = connection.settings_dict
        self.log = tempfile.NamedTemporaryFile(prefix="notif-worker-", suffix=".log", delete=False)  # noqa: SIM115
        env = {
            **os.environ, **WORKER_ENV, **extra_env, "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", "--concurrency=2",
             "--queues=default,notifications", "--event-consumers=notifications", "--without-gossip",
             "--without-mingle", "--without-heartbeat", f"--hostname=notif-{uuid.uuid4().hex[:8]}@%h",
             "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> "Worker":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.output():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"the worker did not start:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no warm shutdown, no ack
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
