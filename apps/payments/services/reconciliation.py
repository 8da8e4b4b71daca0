"""Reconciliation: learn from the provider the outcome of operations left pending (a timeout, a
crash), and settle cancelled payments that still hold money."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from apps.payments import selectors
from apps.payments.errors import PaymentProviderUnavailable
from apps.payments.models import PaymentTransaction
from apps.payments.providers.base import Outcome, ProviderResult, ProviderUnavailable
from apps.payments.services.cancellation import payment_settle_cancelled
from apps.payments.services.operations import provider_for
from apps.payments.services.resolution import operation_resolve

logger = logging.getLogger(__name__)

TxOutcome = PaymentTransaction.Outcome


def payment_transaction_reconcile(*, transaction_id: UUID) -> PaymentTransaction:
    """Ask the provider for the outcome of a pending operation, by its idempotency key, and
    apply it. "Never received" is believed only once the operation is older than
    PAYMENTS_RECONCILE_AFTER_SECONDS (no request can still be on its way); before that, and
    while the provider cannot answer, the operation stays pending."""
    tx = PaymentTransaction.objects.select_related("payment").get(pk=transaction_id)
    if tx.outcome != TxOutcome.PENDING:
        return tx
    provider, breaker = provider_for(tx.payment.provider)
    breaker.before_call()
    try:
        result = provider.lookup(idempotency_key=tx.provider_key)
    except ProviderUnavailable as exc:
        breaker.record_failure()
        logger.warning("payments: reconciling %s: provider did not answer (%s)", tx.id, exc)
        return tx
    breaker.record_success()
    if result is None:
        settled_after = tx.created_at + timedelta(seconds=settings.PAYMENTS_RECONCILE_AFTER_SECONDS)
        if timezone.now() < settled_after:
            return tx
        result = ProviderResult(outcome=Outcome.FAILED, decline_code="not_received",
                                message="The provider never received this operation; nothing was done.",
                                raw={"lookup": "not_found"})
    tx, _ = operation_resolve(tx.id, result, source="reconciliation")
    return tx


def payments_reconcile() -> int:
    """The periodic sweep: resolve operations left pending, and settle cancelled payments that
    still hold money. Returns how many operations got their outcome."""
    older_than = timezone.now() - timedelta(seconds=settings.PAYMENTS_RECONCILE_AFTER_SECONDS)
    resolved = 0
    for tx_id in selectors.transactions_to_reconcile(older_than=older_than):
        try:
            tx = payment_transaction_reconcile(transaction_id=tx_id)
        except PaymentProviderUnavailable as exc:
            logger.warning("payments: reconciling %s skipped: %s", tx_id, exc.detail)
            continue
        resolved += tx.outcome != TxOutcome.PENDING
    for payment_id in selectors.payments_cancelled_with_money_held():
        payment_settle_cancelled(payment_id=payment_id)
    return resolved
