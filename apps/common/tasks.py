import socket

from celery import shared_task
from django.core.cache import cache


@shared_task(name="common.heartbeat")
def heartbeat(token: str) -> None:
    """Proves a worker is consuming: records which host ran the token (used by ops and tests)."""
    cache.set(f"heartbeat:{token}", socket.gethostname(), timeout=600)


@shared_task(name="common.idempotency_keys_purge")
def idempotency_keys_purge_task() -> int:
    from apps.common.http.idempotency import idempotency_keys_purge

    return idempotency_keys_purge()
