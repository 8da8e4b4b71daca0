"""Real servers on loopback for the channels: an SMTP server (aiosmtpd), a webhook receiver and
an SMS gateway (http.server), each recording what it received."""

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from config.celery_app import app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


# --- SMTP -----------------------------------------------------------------------------------

class SmtpRecorder:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}  # recipient -> SMTP answer, e.g. "550 5.1.1 no such user"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; Django's SMTP backend points at it."""
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                           EMAIL_PORT=port, EMAIL_USE_TLS=False, EMAIL_USE_SSL=False, EMAIL_HOST_USER="",
                           EMAIL_HOST_PASSWORD=""):
        yield recorder
    controller.stop()


# --- HTTP receivers -------------------------------------------------------------------------

class Received:
    def __init__(self, path: str, headers: dict[str, str], body: bytes):
        self.path, self.headers, self.body = path, headers, body

    def json(self):
        return json.loads(self.body)


class HttpReceiver:
    """Answers each request with the next scripted reply (default 200). Like a Standard Webhooks
    receiver it processes each webhook-id once: `processed` keeps the first body per id."""

    def __init__(self, *, keep_alive: bool = False):
        self.requests: list[Received] = []
        self.processed: dict[str, bytes] = {}
        self.replies: list[dict] = []  # {"status": 500, "headers": {...}, "delay": 0.0, "hold": Event}
        self.default = {"status": 200}
        self.first_request = threading.Event()
        self.connections = 0  # TCP connections accepted
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1 keeps a connection open for the next request (HTTP/1.0 closes it).
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def setup(self):
                super().setup()
                with receiver._lock:
                    receiver.connections += 1

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver._lock:
                    receiver.requests.append(Received(self.path, headers, body))
                    reply = receiver.replies.pop(0) if receiver.replies else receiver.default
                    status = reply.get("status", 200)
                    msg_id = headers.get("webhook-id")
                    if 200 <= status < 300 and msg_id and msg_id not in receiver.processed:
                        receiver.processed[msg_id] = body
                receiver.first_request.set()
                if reply.get("hold") is not None:
                    reply["hold"].wait(30)
                if reply.get("delay"):
                    time.sleep(reply["delay"])
                try:
                    self.send_response(status)
                    for name, value in reply.get("headers", {}).items():
                        self.send_header(name, value)
                    payload = reply.get("body", b"ok")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender is gone (killed mid-request)

            def do_GET(self):
                self.do_POST()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def keep_alive_receiver():
    """A webhook receiver that keeps connections open between requests, as most servers do."""
    server = HttpReceiver(keep_alive=True).start()
    yield server
    server.stop()


@pytest.fixture
def loopback_allowed():
    """Only where a test needs a loopback receiver: the default refuses loopback."""
    with override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"]):
        yield


@pytest.fixture
def broker_mode():
    """Tasks go through RabbitMQ from this process (the test settings run them eagerly)."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    """A real worker process for the tests of one module (its queues purged before and after)."""
    from tests.notifications.worker import Worker, purge_queues

    purge_queues()
    process = Worker().wait_ready()
    yield process
    process.stop()
    purge_queues()
