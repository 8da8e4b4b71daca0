from celery import shared_task

from apps.orders.services.recovery import orders_recover_stuck


@shared_task(name="orders.recover_stuck")
def recover_stuck() -> int:
    """Drive forward or compensate placements that stopped mid-saga."""
    return orders_recover_stuck()
