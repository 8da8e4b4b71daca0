"""Load shedding and request limits, before any view runs.

Writes that would add to the outbox or the notification queues answer 503 with Retry-After
while the outbox backlog or a watched queue is past its limit; reads keep working. Bodies over
the size limit answer 413. Both as problem+json."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.http import JsonResponse

from apps.common.http.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, problem_body

logger = logging.getLogger(__name__)
PROBLEM_TYPES.setdefault("overloaded", (503, "The service is shedding load; retry after the given delay."))
PROBLEM_TYPES.setdefault("request_too_large", (413, "The request body is too large."))

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _QueueDepths:
    """Queue depths read by a background thread, so that a request never waits on the broker
    (a hung one held the request for the connect timeout). A reading is one interval old."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depths: dict[str, int] = {}
        self._reading = False

    def latest(self) -> dict[str, int]:
        """The last reading; starts the next one unless one is under way."""
        with self._lock:
            if not self._reading:
                self._reading = True
                threading.Thread(target=self._read, name="backpressure-queue-depths", daemon=True).start()
            return dict(self._depths)

    def _read(self) -> None:
        from apps.common.observability.metrics import queue_depths

        depths = None
        try:
            depths = queue_depths(settings.BACKPRESSURE_QUEUES)
        except Exception as exc:  # the broker's trouble is the relay's to report; shedding goes on
            logger.info("backpressure: queue depths unavailable: %s", exc)
        with self._lock:
            if depths is not None:
                self._depths = depths
            self._reading = False

    def reset(self) -> None:
        with self._lock:
            self._depths = {}


class _BacklogProbe:
    """Measures the backlog at most once per interval per process: shedding must stay cheap."""

    def __init__(self):
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._reason = ""

    def overloaded(self) -> str:
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < settings.BACKPRESSURE_CHECK_INTERVAL_SECONDS:
                return self._reason
            self._checked_at = now
        reason = self._measure()
        with self._lock:
            self._reason = reason
        return reason

    def reset(self):
        with self._lock:
            self._checked_at, self._reason = 0.0, ""
        queue_depth_readings.reset()

    @staticmethod
    def _measure() -> str:
        from apps.common.observability.metrics import outbox_backlog

        try:
            pending, _ = outbox_backlog()
            if pending > settings.BACKPRESSURE_OUTBOX_LIMIT:
                return f"outbox backlog {pending} > {settings.BACKPRESSURE_OUTBOX_LIMIT}"
            for name, depth in queue_depth_readings.latest().items():
                if depth > settings.BACKPRESSURE_QUEUE_LIMIT:
                    return f"queue {name} depth {depth} > {settings.BACKPRESSURE_QUEUE_LIMIT}"
        except Exception as exc:  # the probe must never take the API down
            logger.warning("backpressure probe failed: %s", exc)
        return ""


queue_depth_readings = _QueueDepths()
probe = _BacklogProbe()


def _problem(request, code: str, detail: str, headers: dict[str, str] | None = None) -> JsonResponse:
    body = problem_body(code, detail=detail, instance=request.path)
    response = JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.API_MAX_BODY_BYTES:
            return _problem(request, "request_too_large",
                            f"The body has {length} bytes; the limit is {settings.API_MAX_BODY_BYTES}.")
        if request.method not in _SAFE_METHODS and request.path.startswith(tuple(settings.BACKPRESSURE_WRITE_PATHS)):
            reason = probe.overloaded()
            if reason:
                logger.warning("shedding %s %s: %s", request.method, request.path, reason)
                return _problem(request, "overloaded", "Too much work is queued; retry later.",
                                {"Retry-After": str(settings.BACKPRESSURE_RETRY_AFTER_SECONDS)})
        return self.get_response(request)
