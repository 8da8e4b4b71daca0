"""Deployment parity: the processes exactly as the Procfile declares them (its command lines,
read from the file and run by a shell as a Procfile runner does), with the production settings,
against the real services on a fresh RabbitMQ vhost. One order must reach its webhook, its
confirmation email and its report row.

The rest of the suite starts its own workers with the queues it needs, so nothing else would
notice a Procfile worker that does not consume a queue the tasks are routed to."""

import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.db import connections
from rest_framework.authtoken.models import Token

from apps.reporting.models import OrderReport
from tests.catalog.factories import ProductFactory
from tests.notifications.conftest import SmtpRecorder, free_port, wait_for
from tests.notifications.factories import WebhookEndpointFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases="__all__")]


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def url_of(alias: str) -> str:
    db = connections[alias].settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def fresh_vhost():
    """A RabbitMQ vhost nothing has declared anything in yet; deleted afterwards."""
    name = f"parity_{uuid.uuid4().hex[:8]}"
    subprocess.run(["bash", "scripts/services.sh", "vhost", name], cwd=ROOT, check=True, capture_output=True,
                   timeout=120)
    yield name
    subprocess.run(["bash", "scripts/services.sh", "vhost-delete", name], cwd=ROOT, capture_output=True, timeout=120)


class Process:
    """One Procfile entry, run through a shell as foreman, honcho or a platform would."""

    def __init__(self, name: str, command: str, env: dict[str, str], workdir: Path):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def smtp():
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


@pytest.fixture
def platform(smtp, fresh_vhost, transactional_db):
    """release, then web, worker and beat, each with its Procfile command line."""
    _, smtp_port = smtp
    workdir = Path(tempfile.mkdtemp(prefix="procfile-"))
    port = free_port()
    vhost = fresh_vhost
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "parity-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "ACCOUNTS_FRONTEND_URL": "http://127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": url_of("default"),
        "CATALOG_DATABASE_URL": url_of("catalog"),
        "REPORTING_DATABASE_URL": url_of("reporting"),
        "REDIS_URL": "redis://127.0.0.1:63790/7",
        "CACHE_KEY_PREFIX": f"parity-{vhost}",
        "CELERY_BROKER_URL": f"amqp://commerce:commerce@127.0.0.1:56720/{vhost}",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "CELERY_BEAT_SCHEDULE_FILENAME": str(workdir / "celerybeat-schedule"),
        "LOG_FORMAT": "plain",
    }
    commands = procfile()
    # Run as the platform runs it (`sh -c`): the release line chains two commands.
    release = subprocess.run(["sh", "-c", commands["release"]], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert release.returncode == 0, release.stdout[-2000:] + release.stderr[-2000:]
    assert "Declared the events exchange and the queues of:" in release.stdout
    # The worker first, alone on the fresh vhost: nothing else has declared a queue or an exchange.
    processes = {"worker": Process("worker", commands["worker"], env, workdir)}
    try:
        assert wait_for(lambda: " ready." in processes["worker"].output(), timeout=90), processes["worker"].output()
        processes.update({name: Process(name, commands[name], env, workdir) for name in ("web", "beat")})
        yield port, processes
    finally:
        for process in processes.values():
            process.stop()
        for process in processes.values():
            print(f"--- {process.name} ---\n{process.output()[-4000:]}")


def post_order(port: int, token: str, sku: str) -> dict:
    import requests

    deadline = time.monotonic() + 60
    while True:
        try:
            response = requests.post(
                f"http://127.0.0.1:{port}/api/v1/orders/", timeout=30,
                json={"lines": [{"sku": sku, "quantity": 2}], "payment_token": "tok_approved",
                      "email": "buyer@example.com"},
                headers={"Authorization": f"Token {token}", "Idempotency-Key": uuid.uuid4().hex},
            )
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    assert response.status_code == 201, response.text
    return response.json()


def test_an_order_reaches_its_webhook_email_and_report_with_the_procfile_processes(platform, smtp, receiver):
    port, processes = platform
    recorder, _ = smtp
    # Given a product in stock, a customer with an API token and a registered webhook endpoint
    ProductFactory(sku="PARITY-1", price=Decimal("12.50"), currency="USD", units=5)
    customer = get_user_model().objects.create_user("parity", "parity@example.com", "pw-parity-1")
    token = Token.objects.create(user=customer).key
    WebhookEndpointFactory(url=f"{receiver.url}/hooks")

    # When the customer places an order through the web process
    order = post_order(port, token, "PARITY-1")

    # Then the worker delivers its webhook, signed, with the order in it
    def webhook():
        return [r for r in receiver.requests if r.json()["data"].get("order_id") == order["id"]]

    assert wait_for(webhook, timeout=90), processes["worker"].output()[-4000:]
    assert webhook()[0].json()["type"] == "orders.order_placed"
    # and its confirmation email
    assert wait_for(lambda: any("buyer@example.com" in to for _, to in recorder.envelopes), timeout=60), \
        processes["worker"].output()[-4000:]
    assert order["number"] in str(recorder.messages[0]["Subject"]) + recorder.messages[0].get_body().get_content()
    # and its report row
    assert wait_for(lambda: OrderReport.objects.filter(order_id=order["id"]).exists(), timeout=60)
    assert OrderReport.objects.get(order_id=order["id"]).total == Decimal("25.00")
    # and the worker set up its topology on the fresh vhost without a critical error
    worker_log = processes["worker"].output()
    assert not re.search(r"CRITICAL|Native delayed delivery will not be available", worker_log), worker_log[-4000:]


def test_a_worker_of_one_queue_on_a_fresh_vhost_sets_up_delayed_delivery_for_every_queue(tmp_path, fresh_vhost):
    # Given a fresh vhost and a worker that consumes only the default queue (a scaled-out deployment
    # may split queues across workers)
    env = {**os.environ, "CELERY_BROKER_URL": f"amqp://commerce:commerce@127.0.0.1:56720/{fresh_vhost}",
           "DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_FORMAT": "plain"}
    command = procfile()["worker"].replace("--queues=default,notifications", "--queues=default")
    worker = Process("worker", f"{shlex.quote(sys.executable)} -m {command}", env, tmp_path)
    try:
        # When it has started
        assert wait_for(lambda: " ready." in worker.output(), timeout=90), worker.output()
    finally:
        worker.stop()
    # Then native delayed delivery (countdown retries of notifications) is available
    assert "Native delayed delivery will not be available" not in worker.output(), worker.output()[-3000:]
