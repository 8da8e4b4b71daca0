"""The cancellation of an order's payments (the placement saga's compensation, and a cancelled
order): leave no authorization outstanding and no money taken, one idempotent step at a time."""

from __future__ import annotations

import logging
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.payments import selectors, states
from apps.payments.errors import PaymentDeclined, PaymentNotAllowed, PaymentProviderUnavailable
from apps.payments.models import Payment, PaymentTransaction
from apps.payments.services.operations import payment_lock, payment_refund, payment_void
from apps.payments.types import PaymentInfo

logger = logging.getLogger(__name__)

Op = PaymentTransaction.Operation
# A cancelled order's payment is settled (voided or refunded) in at most this many attempts per
# operation; after that a human looks at it (the failures are in its transaction log).
SETTLE_MAX_ATTEMPTS = 5


def payment_cancel_for_order(*, order_id: UUID) -> None:
    """Leave no authorization outstanding for the order, and no money taken: each of its
    payments is marked cancelled, then voided if authorized (refunded if already captured).
    A payment whose authorization outcome is unknown is settled as soon as reconciliation
    learns it was authorized. A provider that is down now does not fail the compensation:
    reconciliation retries the settlement. Idempotent."""
    for payment_id in Payment.objects.filter(order_id=order_id).values_list("id", flat=True):
        with transaction.atomic():
            payment = payment_lock(payment_id)
            if not payment.cancel_requested:
                payment.cancel_requested = True
                payment.version += 1
                payment.updated_at = timezone.now()
                payment.save(update_fields=["cancel_requested", "version", "updated_at"])
                logger.info("payments: %s marked cancelled (order %s, status %s)", payment.id, order_id,
                            payment.status)
        payment_settle_cancelled(payment_id=payment_id)


def payment_settle_cancelled(*, payment_id: UUID) -> PaymentInfo | None:
    """One step towards "nothing held" for a payment whose order was cancelled: void what is
    authorized, or refund what is captured. Returns the payment after the step, or None when
    there is nothing to do now (settled, still pending at the provider, or an operation in flight)."""
    payment = selectors.payment_get(payment_id=payment_id)
    if not payment.cancel_requested:
        return None
    in_flight = selectors.payment_operations_in_flight(payment=payment)
    if payment.status in states.OPERATION_FROM[Op.VOID] and not in_flight & {Op.CAPTURE, Op.VOID}:
        operation = Op.VOID
    elif (payment.status in states.OPERATION_FROM[Op.REFUND] and Op.REFUND not in in_flight
          and selectors.payment_refundable(payment=payment) > 0):
        operation = Op.REFUND
    else:
        return None
    attempts = payment.transactions.filter(operation=operation, idempotency_key__startswith=f"cancel:{payment.id}:")
    attempt = attempts.count()
    if attempt >= SETTLE_MAX_ATTEMPTS:
        logger.error("payments: %s of cancelled payment %s failed %s times; needs a human", operation, payment.id,
                     attempt)
        return None
    key = f"cancel:{payment.id}:{operation}:{attempt}"
    try:
        if operation == Op.VOID:
            return payment_void(payment_id=payment.id, idempotency_key=key)
        return payment_refund(payment_id=payment.id, idempotency_key=key)
    except (PaymentProviderUnavailable, PaymentDeclined, PaymentNotAllowed) as exc:
        logger.warning("payments: settling cancelled payment %s: %s %s (retried by reconciliation)",
                       payment.id, operation, exc.detail)
        return None
