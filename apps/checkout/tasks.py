from celery import shared_task

from apps.checkout.completion import carts_completion_recover
from apps.checkout.services.purge import carts_purge


@shared_task(name="checkout.carts_purge")
def carts_purge_task() -> int:
    """Delete expired carts (idempotent; at most CHECKOUT_PURGE_BATCH per run)."""
    return carts_purge()


@shared_task(name="checkout.carts_completion_recover")
def carts_completion_recover_task() -> dict[str, int]:
    """End the completions whose process died (idempotent: each cart is ended once)."""
    return {outcome.value: count for outcome, count in carts_completion_recover().items()}
