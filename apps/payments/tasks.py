"""Payment tasks: each takes ids, calls one service and is safe to run twice."""

from uuid import UUID

from celery import shared_task

from apps.payments.services.cancellation import payment_settle_cancelled
from apps.payments.services.reconciliation import payment_transaction_reconcile, payments_reconcile


@shared_task(name="payments.reconcile")
def payments_reconcile_task() -> int:
    """Periodic (PAYMENTS_BEAT_SCHEDULE): resolve operations left pending by a timeout or a crash."""
    return payments_reconcile()


@shared_task(name="payments.reconcile_transaction")
def payment_transaction_reconcile_task(transaction_id: str) -> str:
    return payment_transaction_reconcile(transaction_id=UUID(transaction_id)).outcome


@shared_task(name="payments.settle_cancelled")
def payment_settle_cancelled_task(payment_id: str) -> None:
    """Void or refund what a cancelled order's payment still holds."""
    payment_settle_cancelled(payment_id=UUID(payment_id))
