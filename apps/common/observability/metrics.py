"""Prometheus metrics: every endpoint (route template, method, status), every task and event
handler (runs, failures, duration), failures of degraded dependencies, the outbox backlog and
the queue depths.

Under gunicorn with several workers set PROMETHEUS_MULTIPROC_DIR so /metrics adds up every
worker's figures (prometheus_client multiprocess mode)."""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import time

from celery.signals import task_failure, task_postrun, task_prerun
from django.conf import settings
from django.db.models import Min
from django.http import HttpResponse
from django.utils import timezone
from kombu import Connection
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

logger = logging.getLogger(__name__)

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["route", "method", "status"])
HTTP_ERRORS = Counter("http_request_errors_total", "HTTP requests answered with a 5xx", ["route", "method", "status"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["route", "method"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
TASK_RUNS = Counter("celery_task_runs_total", "Celery task runs", ["task"])
TASK_FAILURES = Counter("celery_task_failures_total", "Celery task failures", ["task"])
TASK_LATENCY = Histogram("celery_task_duration_seconds", "Celery task duration", ["task"])
HANDLER_RUNS = Counter("event_handler_runs_total", "Event handler runs", ["consumer", "event_type"])
HANDLER_FAILURES = Counter("event_handler_failures_total", "Event handler failures", ["consumer", "event_type"])
HANDLER_LATENCY = Histogram("event_handler_duration_seconds", "Event handler duration", ["consumer", "event_type"])
DEPENDENCY_FAILURES = Counter("dependency_failures_total", "Calls to a backing service that failed and were worked "
                              "around (apps.common.observability.degraded)", ["dependency", "component"])
EVENTS_REJECTED = Counter("events_rejected_total", "Events a consumer could not apply (recorded as RejectedEvent "
                          "rows, replayable from the admin)", ["consumer", "event_type"])


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "<unmatched>"
        status = str(response.status_code)
        HTTP_REQUESTS.labels(route, request.method, status).inc()
        if response.status_code >= 500:
            HTTP_ERRORS.labels(route, request.method, status).inc()
        HTTP_LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
        return response


_task_started: dict[str, float] = {}


@task_prerun.connect
def _task_prerun(task_id=None, task=None, **kwargs):
    _task_started[task_id] = time.perf_counter()
    TASK_RUNS.labels(task.name).inc()


@task_postrun.connect
def _task_postrun(task_id=None, task=None, **kwargs):
    started = _task_started.pop(task_id, None)
    if started is not None:
        TASK_LATENCY.labels(task.name).observe(time.perf_counter() - started)


@task_failure.connect
def _task_failure(sender=None, **kwargs):
    TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()


@contextlib.contextmanager
def observe_handler(consumer: str, event_type: str):
    """Count and time one event handler run (consumers wrap each apply in it)."""
    started = time.perf_counter()
    HANDLER_RUNS.labels(consumer, event_type).inc()
    try:
        yield
    except Exception:
        HANDLER_FAILURES.labels(consumer, event_type).inc()
        raise
    finally:
        HANDLER_LATENCY.labels(consumer, event_type).observe(time.perf_counter() - started)


def outbox_backlog() -> tuple[int, float]:
    """(pending events, age in seconds of the oldest pending one)."""
    from apps.common.models import OutboxEvent

    pending = OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING)
    oldest = pending.aggregate(oldest=Min("occurred_at"))["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return pending.count(), age


def queue_depths(names) -> dict[str, int]:
    """Messages ready in each queue (passive declare: never creates a queue). Missing -> absent."""
    if not settings.CELERY_BROKER_URL:
        return {}
    depths = {}
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as connection:
        for name in names:
            try:
                channel = connection.channel()
                _, depths[name], _ = channel.queue_declare(queue=name, passive=True)
                channel.close()
            except Exception as exc:  # absent queue or broker trouble: report what we can
                logger.info("queue depth of %s unavailable: %s", name, exc)
    return depths


class BacklogCollector:
    """Computed at scrape time, from the database and the broker."""

    def collect(self):
        pending, age = outbox_backlog()
        yield GaugeMetricFamily("outbox_pending_events", "Outbox events not yet published", value=pending)
        yield GaugeMetricFamily("outbox_oldest_pending_age_seconds", "Age of the oldest pending outbox event",
                                value=age)
        depth = GaugeMetricFamily("queue_depth_messages", "Messages ready in a RabbitMQ queue", labels=["queue"])
        try:
            for name, count in queue_depths(settings.METRICS_QUEUES).items():
                depth.add_metric([name], count)
        except Exception as exc:
            logger.warning("queue depths unavailable: %s", exc)
        yield depth


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    return registry


_backlog_collector = BacklogCollector()


def _api_token_user(request):
    """The user of a DRF API token (`Authorization: Token <key>`), or None."""
    try:
        authenticated = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return authenticated[0] if authenticated else None


def _metrics_token_matches(request) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    supplied = supplied.strip()
    return bool(token and scheme.lower() == "bearer" and supplied
                and hmac.compare_digest(token.encode(), supplied.encode()))


def metrics_view(request):
    """GET /metrics: for staff with common.view_metrics (session or API token), or
    `Authorization: Bearer <METRICS_TOKEN>` (a scraper)."""
    user = request.user if request.user.is_authenticated else _api_token_user(request)
    if not _metrics_token_matches(request):
        if user is None or not user.is_staff:
            response = HttpResponse("metrics need a staff session or API token, or the metrics token\n",
                                    status=401, content_type="text/plain")
            response["WWW-Authenticate"] = "Bearer"
            return response
        if not user.has_perm("common.view_metrics"):
            return HttpResponse("metrics need the permission common.view_metrics\n", status=403,
                                content_type="text/plain")
    registry = _registry()
    body = generate_latest(registry)
    extra = CollectorRegistry()
    extra.register(_backlog_collector)
    body += generate_latest(extra)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
