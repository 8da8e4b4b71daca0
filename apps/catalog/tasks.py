from celery import shared_task

from apps.catalog.services.sweeper import reservations_sweep


@shared_task(name="catalog.reservations_sweep")
def reservations_sweep_task() -> dict:
    """Give back the units of expired holds and repair what crashed writers left (idempotent)."""
    report = reservations_sweep()
    return {"expired": report.expired, "reconciled": report.reconciled,
            "adjustments_settled": report.adjustments_settled}
