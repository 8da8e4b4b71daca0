"""S4 of the benchmark suite: notification fan-out against raw kombu, in the bench environment.

    python -m bench.fanout [--quick]     (run by bench.run; prints one JSON line last)

A (the platform): N events are written to the outbox; the clock starts when the relay starts
publishing them (the same `outbox_relay` the relay task runs) and stops when a loopback webhook
receiver has had every one of them delivered once, through a real Celery worker: relay ->
`notifications.events` -> the notifications consumer (inbox, delivery rows) -> the
`notifications.deliver` task -> a signed HTTP POST.

B (the reference): the same N envelopes published with raw kombu to a durable quorum queue,
persistent, one publisher confirm each (as the relay does), and consumed with acks by a consumer
in another process; the clock stops at its last ack.

Runs alternate (A B B A ...) after a warm-up of each; the ratio is A's events per second over
B's, per pair.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
# Bench events go to the notifications consumer only (reporting binds orders.#); the receiver is
# on loopback, which the SSRF guard refuses unless allowed.
os.environ["NOTIFICATIONS_EVENT_BINDINGS"] = "orders.#,payments.#,bench.#"
os.environ["NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS"] = "127.0.0.0/8"

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402
from kombu import Connection, Exchange, Producer, Queue  # noqa: E402

from apps.common.messaging.relay import outbox_relay  # noqa: E402
from apps.common.models import OutboxEvent  # noqa: E402
from apps.notifications.models import Delivery, WebhookEndpoint  # noqa: E402
from apps.notifications.services.endpoints import webhook_endpoint_create  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
EVENT_TYPE = "bench.fanout"
RAW_QUEUE = "bench.raw"
WORKER_CONCURRENCY = os.environ.get("BENCH_WORKER_CONCURRENCY", "2")


class Receiver:
    """A webhook receiver on loopback that counts distinct webhook-ids (a resend counts once)."""

    def __init__(self):
        self.seen: set[str] = set()
        self.expected = 0
        self.done = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.seen.add(self.headers.get("webhook-id", ""))
                    if receiver.expected and len(receiver.seen) >= receiver.expected:
                        receiver.done.set()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def expect(self, count: int) -> None:
        with self.lock:
            self.seen.clear()
            self.expected = count
            self.done.clear()


def envelopes(count: int) -> list[OutboxEvent]:
    now = timezone.now()
    return [OutboxEvent(event_type=EVENT_TYPE, aggregate_id=f"bench-{index}", occurred_at=now + dt.timedelta(
        microseconds=index), data={"order_id": str(uuid.uuid4()), "number": index, "total": "42.00",
                                  "currency": "USD", "lines": [{"sku": "BENCH-1", "quantity": 1}]})
            for index in range(count)]


def run_platform(receiver: Receiver, count: int) -> float:
    """Events per second, outbox -> delivered webhook."""
    rows = OutboxEvent.objects.bulk_create(envelopes(count))
    receiver.expect(len(rows))
    started = time.perf_counter()
    published = 0
    while published < count:
        report = outbox_relay()
        published += report.published
        if report.failed:
            raise RuntimeError(f"relay failed: {report.last_error}")
    if not receiver.done.wait(timeout=600):
        raise RuntimeError(f"only {len(receiver.seen)} of {count} webhooks arrived")
    elapsed = time.perf_counter() - started
    deadline = time.monotonic() + 30  # the worker records the outcome just after the POST returns
    mine = Delivery.objects.filter(event_id__in=[row.id for row in rows])
    while pending := count - mine.filter(status=Delivery.Status.DELIVERED).count():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pending} deliveries not marked delivered")
        time.sleep(0.1)
    return count / elapsed


RAW_CONSUMER = """
import sys, time
from kombu import Connection, Consumer, Queue, Exchange
url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
queue = Queue(name, Exchange("", type="direct"), routing_key=name, durable=True,
              queue_arguments={"x-queue-type": "quorum"})
seen = 0
def on_message(body, message):
    global seen
    message.ack()
    seen += 1
with Connection(url) as connection:
    channel = connection.channel()
    consumer = Consumer(channel, queues=[queue], accept=["json"], callbacks=[on_message])
    consumer.qos(prefetch_count=%d)
    with consumer:
        print("ready", flush=True)
        while seen < count:
            connection.drain_events(timeout=600)
print(time.perf_counter(), flush=True)
"""


def run_raw(payloads: list[dict]) -> float:
    """Events per second with raw kombu: persistent publish with confirms, consume with acks."""
    url = settings.CELERY_BROKER_URL
    consumer = subprocess.Popen([PY, "-c", RAW_CONSUMER % settings.EVENT_CONSUMER_PREFETCH, url, RAW_QUEUE,
                                 str(len(payloads))], stdout=subprocess.PIPE, text=True)
    try:
        if consumer.stdout.readline().strip() != "ready":
            raise RuntimeError("the raw consumer did not start")
        with Connection(url, transport_options={"confirm_publish": True}) as connection:
            producer = Producer(connection.channel(), serializer="json")
            started = time.perf_counter()
            for payload in payloads:
                producer.publish(payload, exchange="", routing_key=RAW_QUEUE, delivery_mode=2, retry=False,
                                 message_id=payload["id"], type=payload["type"])
        finished = float(consumer.stdout.readline())
        consumer.wait(timeout=60)
    finally:
        if consumer.poll() is None:
            consumer.kill()
    return len(payloads) / (finished - started)


def raw_queue_declare() -> None:
    with Connection(settings.CELERY_BROKER_URL) as connection:
        channel = connection.channel()
        queue = Queue(RAW_QUEUE, Exchange("", type="direct"), routing_key=RAW_QUEUE, durable=True,
                      queue_arguments={"x-queue-type": "quorum"})
        queue.bind(channel).declare()
        channel.queue_purge(RAW_QUEUE)


class Worker:
    """The notifications worker: the event consumer and the deliver task, as deployed."""

    def __init__(self):
        self.log = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results")) / "fanout-worker.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [PY, "-m", "celery", "-A", "config", "worker", "--pool=prefork", f"--concurrency={WORKER_CONCURRENCY}",
             "--queues=notifications", "--event-consumers=notifications", "--without-gossip", "--without-mingle",
             f"--hostname=bench-fanout-{uuid.uuid4().hex[:6]}@%h", "--loglevel=INFO"],
            cwd=ROOT, env={**os.environ, "LOG_FORMAT": "plain"}, stdout=self.log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while " ready." not in self.log.read_text(errors="replace"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Warm shutdown (running tasks finish); the pool children get no signal of their own."""
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    opts = parser.parse_args()
    count, pairs, warmup = (200, 5, 50) if opts.quick else (2000, 5, 300)

    # S1 ran without a worker, so its orders' events are still pending in the outbox (and their
    # relay tasks queued): they are not part of this scenario.
    OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).delete()
    with Connection(settings.CELERY_BROKER_URL) as connection:
        for name in ("notifications", "notifications.events"):
            channel = connection.channel()
            with contextlib.suppress(*connection.channel_errors):
                channel.queue_purge(name)
    receiver = Receiver()
    owner, _ = get_user_model().objects.get_or_create(username="bench-fanout", defaults={"is_staff": True})
    WebhookEndpoint.objects.filter(owner=owner).delete()
    webhook_endpoint_create(owner=owner, url=receiver.url, event_types=[EVENT_TYPE])
    raw_queue_declare()
    payloads = [row.envelope() for row in envelopes(count)]
    for payload in payloads:
        payload["id"] = str(uuid.uuid4())
    worker = Worker()
    try:
        run_platform(receiver, warmup)
        run_raw(payloads[:warmup])
        runs = []
        for index in range(pairs):
            order = (run_platform, run_raw) if index % 2 == 0 else (run_raw, run_platform)
            result = {}
            for run in order:
                if run is run_platform:
                    result["a"] = run_platform(receiver, count)
                else:
                    result["b"] = run_raw(payloads)
            runs.append((result["a"], result["b"]))
            print(f"  S4 pair {index + 1}: A {result['a']:.0f} events/s, B {result['b']:.0f} events/s",
                  file=sys.stderr, flush=True)
    finally:
        worker.stop()
    ratios = [a / b for a, b in runs]
    print(json.dumps({
        "scenario": "S4", "a": "outbox -> relay -> consumer -> deliver task -> webhook (events/s)",
        "b": "raw kombu publish (confirms, persistent, quorum) + consume (events/s)",
        "concurrency": int(WORKER_CONCURRENCY), "pairs": len(runs), "events_per_run": count,
        "ratio_median": round(statistics.median(ratios), 3), "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        "a_rps_median": round(statistics.median(a for a, _ in runs), 1),
        "b_rps_median": round(statistics.median(b for _, b in runs), 1),
        "a_p50_ms": None, "a_p99_ms": None, "b_p50_ms": None, "b_p99_ms": None, "a_errors": 0, "b_errors": 0,
        "runs": [{"a": round(a, 1), "b": round(b, 1)} for a, b in runs],
    }))


if __name__ == "__main__":
    main()
