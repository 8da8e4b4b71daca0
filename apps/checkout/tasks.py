from celery import shared_task

from apps.checkout.services.purge import carts_purge


@shared_task(name="checkout.carts_purge")
def carts_purge_task() -> int:
    """Delete expired carts (idempotent; at most CHECKOUT_PURGE_BATCH per run)."""
    return carts_purge()
