"""Readiness probes for each backing service. Each returns None when healthy, else the reason."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection


def database_problem(alias: str) -> str | None:
    try:
        connection = connections[alias]
        if connection.vendor == "mongodb":
            connection.ensure_connection()
            connection.database.command("ping")
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        return None
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        connections[alias].close()
        return f"{type(exc).__name__}: {exc}"[:300]


def cache_problem() -> str | None:
    try:
        client = getattr(cache, "client", None)
        if client is not None and hasattr(client, "get_client"):
            # django-redis swallows errors (IGNORE_EXCEPTIONS); ask Redis directly.
            client.get_client(write=True).ping()
        else:
            cache.set("readyz", "1", 5)
            if cache.get("readyz") != "1":
                return "cache did not return what was written"
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300]


def broker_problem() -> str | None:
    if not settings.CELERY_BROKER_URL:
        return None  # embedded default: tasks run in-process
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300]


def readiness() -> dict[str, str | None]:
    checks = {f"database:{alias}": database_problem(alias) for alias in settings.DATABASES}
    checks["cache"] = cache_problem()
    checks["broker"] = broker_problem()
    return checks


@never_cache
@require_GET
def healthz(request):
    """Liveness: the process answers. Touches no backing service."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Readiness: every database alias, the cache and the broker answer."""
    checks = readiness()
    down = sorted(name for name, problem in checks.items() if problem)
    body = {
        "status": "unavailable" if down else "ready",
        "down": down,
        "checks": {name: {"ok": problem is None, **({"error": problem} if problem else {})}
                   for name, problem in checks.items()},
    }
    return JsonResponse(body, status=503 if down else 200)
