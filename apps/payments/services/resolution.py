"""Step 3 of every provider operation: apply the provider's definitive outcome to the pending
operation, whichever source brings it first (the synchronous answer, the processor's webhook or
reconciliation). Only a `pending` operation changes anything, with the payment locked: exactly
one source makes the transition, writes its audit row and its outbox event."""

from __future__ import annotations

import copy
import logging
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from apps.common.messaging.events import event_record
from apps.common.money import money
from apps.payments import events, selectors, states
from apps.payments.models import Payment, PaymentTransaction, Refund
from apps.payments.providers.base import Outcome, ProviderResult

logger = logging.getLogger(__name__)

Op = PaymentTransaction.Operation
TxOutcome = PaymentTransaction.Outcome

TX_OUTCOME = {Outcome.APPROVED: TxOutcome.SUCCEEDED, Outcome.DECLINED: TxOutcome.DECLINED,
              Outcome.FAILED: TxOutcome.FAILED}


def _info_json(payment: Payment) -> dict:
    return selectors.payment_info_to_json(selectors.payment_info(payment))


def _event_for(payment: Payment, tx: PaymentTransaction, refund: Refund | None) -> events.PaymentEventBase | None:
    currency = payment.currency
    fields = {
        "payment_id": payment.id, "order_id": payment.order_id, "transaction_id": tx.id,
        "amount": money(tx.amount, currency), "currency": currency, "status": payment.status,
        "amount_authorized": money(payment.amount_authorized, currency),
        "amount_captured": money(payment.amount_captured, currency),
        "amount_refunded": money(payment.amount_refunded, currency),
        "method": payment.method, "provider": payment.provider, "provider_reference": payment.provider_reference,
    }
    succeeded = tx.outcome == TxOutcome.SUCCEEDED
    if tx.operation == Op.AUTHORIZE:
        if succeeded:
            return events.PaymentAuthorized(**fields)
        return events.PaymentFailed(**fields, decline_code=tx.decline_code, reason=tx.message)
    if not succeeded:
        return None  # a refused capture, void or refund changes nothing: it stays in the log
    if tx.operation == Op.CAPTURE:
        return events.PaymentCaptured(**fields)
    if tx.operation == Op.VOID:
        return events.PaymentVoided(**fields)
    return events.PaymentRefunded(**fields, refund_id=refund.id)


def _outcome_apply(payment: Payment, tx: PaymentTransaction, result: ProviderResult, *, source: str,
                   now) -> dict:
    """The outcome applied to `payment` in memory (status, amounts, a new version); returns the
    operation's fields that record it."""
    before = payment.status
    approved = result.outcome == Outcome.APPROVED
    target = before
    if tx.operation == Op.AUTHORIZE:
        target = states.status_after_authorize(approved=approved)
        if approved:
            payment.amount_authorized = tx.amount
            payment.provider_reference = result.reference
    elif approved and tx.operation == Op.CAPTURE:
        payment.amount_captured += tx.amount
        target = states.status_after_capture(authorized=payment.amount_authorized, captured=payment.amount_captured)
    elif approved and tx.operation == Op.VOID:
        target = states.status_after_void(captured=payment.amount_captured)
    elif approved and tx.operation == Op.REFUND:
        payment.amount_refunded += tx.amount
        target = states.status_after_refund(captured=payment.amount_captured, refunded=payment.amount_refunded)
    if target != before:
        states.transition_check(before, target)
    payment.status = target
    payment.version += 1
    payment.updated_at = now
    return {"outcome": TX_OUTCOME[result.outcome], "provider_reference": result.reference[:255],
            "decline_code": result.decline_code[:60], "message": (result.message or tx.message)[:255],
            "raw_response": result.raw, "resolved_by": source, "status_before": before, "status_after": target,
            "result": _info_json(payment), "resolved_at": now}


def operation_resolve(tx_id: UUID, result: ProviderResult, *, source: str,
                      pending: tuple[PaymentTransaction, Payment] | None = None) -> tuple[PaymentTransaction, bool]:
    """Apply a provider's definitive outcome to a pending operation: (the operation, applied?).
    An operation that has its outcome already is left as it is.

    `pending` is the operation as its caller recorded it moments ago, with the payment as it was
    then (the synchronous answer). Every write of a payment gives it a new version, so if the
    payment is still at that version, nothing resolved any of its operations meanwhile: the
    payment is written by one update conditional on that version, and neither it nor the
    operation is read again. Otherwise (a webhook or reconciliation came first), the payment is
    locked and the operation read under the lock, as every other source does."""
    now = timezone.now()
    with transaction.atomic():
        outcome = None
        if pending is not None:
            tx, payment = pending[0], copy.copy(pending[1])
            seen = payment.version
            outcome = _outcome_apply(payment, tx, result, source=source, now=now)
            written = {field.attname: getattr(payment, field.attname)
                       for field in Payment._meta.concrete_fields if not field.primary_key}
            if not Payment.objects.filter(pk=payment.pk, version=seen).update(**written):
                outcome = None
        if outcome is None:
            if pending is None:
                payment_id = PaymentTransaction.objects.filter(pk=tx_id).values_list("payment_id", flat=True).get()
            else:
                payment_id = pending[0].payment_id
            payment = Payment.objects.select_for_update().get(pk=payment_id)
            tx = PaymentTransaction.objects.select_for_update().get(pk=tx_id)
            if tx.outcome != TxOutcome.PENDING:
                return tx, False
            outcome = _outcome_apply(payment, tx, result, source=source, now=now)
            payment.save()
        for name, value in outcome.items():
            setattr(tx, name, value)
        tx.save(update_fields=list(outcome))
        before, target = outcome["status_before"], outcome["status_after"]
        approved = result.outcome == Outcome.APPROVED

        refund = None
        if tx.operation == Op.REFUND:
            refund = Refund.objects.select_for_update().get(transaction=tx)
            refund.status = Refund.Status.SUCCEEDED if approved else Refund.Status.FAILED
            refund.provider_reference = result.reference[:255]
            refund.resolved_at = now
            refund.save()
        event = _event_for(payment, tx, refund)
        if event is not None:
            event_record(event)
        if approved and payment.cancel_requested:
            transaction.on_commit(lambda: _settle_later(payment.id))
    logger.info("payments: %s %s %s -> %s (%s, by %s)", tx.operation, tx.id, before, target, tx.outcome, source)
    return tx, True


def _settle_later(payment_id: UUID) -> None:
    from apps.payments.tasks import payment_settle_cancelled_task

    try:
        payment_settle_cancelled_task.delay(str(payment_id))
    except BrokerError as exc:
        # Reconciliation sweeps cancelled payments that still hold money: it settles this one.
        logger.warning("payments: could not queue the settlement of %s (%s)", payment_id, exc)
