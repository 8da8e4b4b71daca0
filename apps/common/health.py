"""Readiness probes for each backing service. Each returns None when healthy, else the reason."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connections
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
