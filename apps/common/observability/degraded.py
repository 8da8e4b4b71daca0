"""A backing service the API works around when it is down (Redis for the cache, the throttles,
the catalog cache and the payments circuit breaker).

While it is down it fails on every request; logging each failure buried the logs (hundreds of
tracebacks a second). So each failure is counted in `dependency_failures_total{dependency,
component}`, and logged at most once per DEGRADED_LOG_INTERVAL_SECONDS per process and
dependency, saying how many failures the interval before held."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from apps.common.observability.metrics import DEPENDENCY_FAILURES

logger = logging.getLogger(__name__)


@dataclass
class _Silence:
    logged_at: float
    unlogged: int = 0  # failures since then, counted but not logged


_lock = threading.Lock()
_silences: dict[str, _Silence] = {}


def dependency_failed(*, dependency: str, component: str, error: BaseException, fallback: str) -> None:
    """Record that `component` could not use `dependency` and did `fallback` instead."""
    DEPENDENCY_FAILURES.labels(dependency, component).inc()
    now = time.monotonic()
    with _lock:
        silence = _silences.get(dependency)
        if silence is not None and now - silence.logged_at < settings.DEGRADED_LOG_INTERVAL_SECONDS:
            silence.unlogged += 1
            return
        unlogged = silence.unlogged if silence is not None else 0
        _silences[dependency] = _Silence(logged_at=now)
    logger.warning("%s unavailable to %s (%s: %s); %s. Logged at most every %ss: %d failures since the last "
                   "report went unlogged (dependency_failures_total counts every one)",
                   dependency, component, type(error).__name__, error, fallback,
                   settings.DEGRADED_LOG_INTERVAL_SECONDS, unlogged)


def reset() -> None:
    """Forget what was logged, so that the next failure is logged at once (tests)."""
    with _lock:
        _silences.clear()
