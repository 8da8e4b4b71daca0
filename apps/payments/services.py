"""Payment writes: authorize, capture, void, refund, the cancellation of an order's payments,
processor webhooks and reconciliation.

Every provider operation runs in the same three steps, so every one has the same guarantees:

1. Begin, in a short transaction with the payment row locked (select_for_update): a known
   (operation, idempotency key) is answered from its record with no provider call; otherwise
   the status table and the amounts are checked (counting operations still in flight), the
   circuit breaker is asked, and the operation is recorded `pending`. This commits before the
   provider is called, so a crash during the call leaves a row that reconciliation resolves.
2. Call the provider with no transaction open (no lock held across the network), sending the
   operation's idempotency key.
3. Resolve, in a transaction with the payment locked: only a `pending` operation changes
   anything. The synchronous answer, the processor's webhook and reconciliation may all carry
   the outcome, in any order and at the same time; exactly one of them makes the transition,
   writes its audit row (the operation's status_before/status_after) and its outbox event.

A timeout leaves the operation `pending` (for an authorization, the payment `pending` too) and
raises PaymentProviderUnavailable: the outcome is learned from the provider, never guessed."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from apps.common.http.parsers import json_loads
from apps.common.messaging.events import event_record
from apps.common.money import InvalidMoney, money
from apps.payments import events, selectors, states
from apps.payments.breaker import CircuitBreaker
from apps.payments.errors import (
    PaymentDeclined,
    PaymentIdempotencyKeyReused,
    PaymentNotAllowed,
    PaymentNotFound,
    PaymentProviderUnavailable,
    PaymentRequestInvalid,
)
from apps.payments.models import Payment, PaymentTransaction, Refund, WebhookEvent
from apps.payments.providers import (
    UnknownProvider,
    provider_class,
    provider_name_for_method,
    provider_named,
)
from apps.payments.providers.base import (
    InvalidWebhook,
    Outcome,
    PaymentProvider,
    ProviderNotReached,
    ProviderOutcomeUnknown,
    ProviderResult,
    ProviderUnavailable,
)
from apps.payments.types import OperationBegun, PaymentInfo
from apps.payments.webhooks import WebhookInvalid, webhook_signature_verify

logger = logging.getLogger(__name__)

S = Payment.Status
Op = PaymentTransaction.Operation
TxOutcome = PaymentTransaction.Outcome

_TX_OUTCOME = {Outcome.APPROVED: TxOutcome.SUCCEEDED, Outcome.DECLINED: TxOutcome.DECLINED,
               Outcome.FAILED: TxOutcome.FAILED}
# A cancelled order's payment is settled (voided or refunded) in at most this many attempts per
# operation; after that a human looks at it (the failures are in its transaction log).
SETTLE_MAX_ATTEMPTS = 5


# ---------------------------------------------------------------- helpers

def _amount(value, currency: str) -> Decimal:
    try:
        amount = money(value, currency)
    except InvalidMoney as exc:
        raise PaymentRequestInvalid(str(exc)) from exc
    if amount <= 0:
        raise PaymentRequestInvalid("The amount must be greater than zero.")
    return amount


def _key_check(idempotency_key: str) -> None:
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 255:
        raise PaymentRequestInvalid("An idempotency key of 1 to 255 characters is required.")


def _fingerprint(**fields) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def _provider_key(operation: str, idempotency_key: str) -> str:
    """The Idempotency-Key the provider sees: ours, named by operation (keys are unique per
    operation here, but one namespace at most processors)."""
    key = f"{operation}:{idempotency_key}"
    if len(key) <= 255:
        return key
    return f"{operation}:sha256:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"


def _provider(name: str) -> tuple[PaymentProvider, CircuitBreaker]:
    try:
        return provider_named(name), CircuitBreaker(name)
    except (UnknownProvider, ImproperlyConfigured) as exc:
        logger.error("payments: provider %s is not usable: %s", name, exc)
        raise PaymentProviderUnavailable(f"The payment provider {name} is not configured.") from exc


def _lock(payment_id: UUID) -> Payment:
    try:
        return Payment.objects.select_for_update().get(pk=payment_id)
    except (Payment.DoesNotExist, ValidationError) as exc:
        raise PaymentNotFound("No such payment.") from exc


def _answer(tx: PaymentTransaction) -> PaymentInfo:
    """What the operation answers, now and to every retry with its key."""
    extra = {"payment_id": str(tx.payment_id)}
    if tx.outcome == TxOutcome.SUCCEEDED:
        return selectors.payment_info_from_json(tx.result)
    if tx.outcome == TxOutcome.DECLINED:
        raise PaymentDeclined(tx.message or None, extra={**extra, "decline_code": tx.decline_code})
    if tx.outcome == TxOutcome.FAILED:
        raise PaymentProviderUnavailable(tx.message or None, extra={**extra, "failure_code": tx.decline_code})
    if not tx.message:  # no timeout noted: the first call is still waiting for its answer
        raise PaymentProviderUnavailable("This operation is still in progress.", retry_after=1,
                                         extra={**extra, "outcome": "in_progress"})
    reconcile_at = tx.created_at + timedelta(seconds=settings.PAYMENTS_RECONCILE_AFTER_SECONDS)
    wait = max(1, int((reconcile_at - timezone.now()).total_seconds()))
    raise PaymentProviderUnavailable(
        "The provider's answer is not known yet; it is being reconciled with the provider.",
        retry_after=wait, extra={**extra, "outcome": "unknown"})


def _replay(tx: PaymentTransaction, fingerprint: str) -> PaymentInfo:
    if tx.request_fingerprint != fingerprint:
        raise PaymentIdempotencyKeyReused()
    return _answer(tx)


def _existing(operation: str, idempotency_key: str) -> PaymentTransaction | None:
    return PaymentTransaction.objects.filter(operation=operation, idempotency_key=idempotency_key).first()


def _info_json(payment: Payment) -> dict:
    return selectors.payment_info_to_json(selectors.payment_info(payment))


# ---------------------------------------------------------------- call and resolve

def _send(breaker: CircuitBreaker, tx: PaymentTransaction, call: Callable[[], ProviderResult]) -> ProviderResult | None:
    """The provider's definitive answer, or None when the outcome is unknown."""
    try:
        result = call()
    except ProviderNotReached as exc:
        breaker.record_failure()
        logger.warning("payments: %s %s not delivered: %s", tx.operation, tx.id, exc)
        return ProviderResult(outcome=Outcome.FAILED, decline_code="not_reached",
                              message="The payment provider could not be reached; nothing was charged.",
                              raw={"error": str(exc)})
    except ProviderOutcomeUnknown as exc:
        breaker.record_failure()
        logger.warning("payments: %s %s outcome unknown (%s); left pending for reconciliation",
                       tx.operation, tx.id, exc)
        PaymentTransaction.objects.filter(pk=tx.pk, outcome=TxOutcome.PENDING).update(message=str(exc)[:255])
        return None
    if result.outcome == Outcome.FAILED:
        breaker.record_failure()
    else:
        breaker.record_success()
    return result


def _perform(tx: PaymentTransaction, breaker: CircuitBreaker, call: Callable[[], ProviderResult]) -> PaymentInfo:
    result = _send(breaker, tx, call)
    if result is not None:
        tx, _ = _resolve(tx.id, result, source="response")
    else:
        tx.refresh_from_db()  # a webhook may have brought the outcome meanwhile
    return _answer(tx)


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


def _resolve(tx_id: UUID, result: ProviderResult, *, source: str) -> tuple[PaymentTransaction, bool]:
    """Apply a provider's definitive outcome to a pending operation: (the operation, applied?).
    An operation that has its outcome already is left as it is."""
    now = timezone.now()
    with transaction.atomic():
        payment_id = PaymentTransaction.objects.filter(pk=tx_id).values_list("payment_id", flat=True).get()
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        tx = PaymentTransaction.objects.select_for_update().get(pk=tx_id)
        if tx.outcome != TxOutcome.PENDING:
            return tx, False
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
            target = states.status_after_capture(authorized=payment.amount_authorized,
                                                 captured=payment.amount_captured)
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
        payment.save()

        tx.outcome = _TX_OUTCOME[result.outcome]
        tx.provider_reference = result.reference[:255]
        tx.decline_code = result.decline_code[:60]
        tx.message = (result.message or tx.message)[:255]
        tx.raw_response = result.raw
        tx.resolved_by = source
        tx.status_before, tx.status_after = before, target
        tx.result = _info_json(payment)
        tx.resolved_at = now
        tx.save()

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


# ---------------------------------------------------------------- operations

def payment_authorize(*, order_id: UUID, amount: Decimal, currency: str, token: str, idempotency_key: str,
                      method: str = "card") -> PaymentInfo:
    _key_check(idempotency_key)
    amount = _amount(amount, currency)
    fingerprint = _fingerprint(operation=Op.AUTHORIZE, order_id=str(order_id), amount=str(amount), currency=currency,
                               method=method, token=hashlib.sha256(token.encode()).hexdigest())
    existing = _existing(Op.AUTHORIZE, idempotency_key)
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        provider_name = provider_name_for_method(method)
    except UnknownProvider as exc:
        raise PaymentRequestInvalid(str(exc)) from exc
    provider, breaker = _provider(provider_name)
    breaker.before_call()  # open: refused at once, nothing recorded
    now = timezone.now()
    try:
        with transaction.atomic():
            payment = Payment.objects.create(order_id=order_id, method=method, provider=provider.name,
                                             currency=currency, amount=amount, status=S.PENDING,
                                             created_at=now, updated_at=now)
            tx = PaymentTransaction.objects.create(
                payment=payment, operation=Op.AUTHORIZE, idempotency_key=idempotency_key,
                provider_key=_provider_key(Op.AUTHORIZE, idempotency_key), request_fingerprint=fingerprint,
                amount=amount, created_at=now)
    except IntegrityError:
        # The same key raced us: answer what the first one answers.
        return _replay(PaymentTransaction.objects.get(operation=Op.AUTHORIZE, idempotency_key=idempotency_key),
                       fingerprint)
    return _perform(tx, breaker, lambda: provider.authorize(amount=amount, currency=currency, token=token,
                                                            idempotency_key=tx.provider_key))


def _begin(*, payment_id: UUID, operation: str, idempotency_key: str, requested: Decimal | None,
           plan: Callable[[Payment, Decimal | None], Decimal]) -> OperationBegun | PaymentInfo:
    """Step 1 for capture, void and refund: the operation recorded pending, or the recorded
    answer of a known key."""
    _key_check(idempotency_key)
    now = timezone.now()
    try:
        with transaction.atomic():
            payment = _lock(payment_id)
            amount = None if requested is None else _amount(requested, payment.currency)
            fingerprint = _fingerprint(operation=operation, payment_id=str(payment.id),
                                       amount=None if amount is None else str(amount))
            existing = _existing(operation, idempotency_key)
            if existing is not None:
                return _replay(existing, fingerprint)
            value = plan(payment, amount)
            provider, breaker = _provider(payment.provider)
            breaker.before_call()
            tx = PaymentTransaction.objects.create(
                payment=payment, operation=operation, idempotency_key=idempotency_key,
                provider_key=_provider_key(operation, idempotency_key), request_fingerprint=fingerprint,
                amount=value, created_at=now)
            if operation == Op.REFUND:
                Refund.objects.create(payment=payment, transaction=tx, amount=value, created_at=now)
    except IntegrityError:
        # The same key, on another payment, raced us.
        existing = _existing(operation, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, "")
    return OperationBegun(tx=tx, provider=provider, breaker=breaker, payment=payment)


def payment_capture(*, payment_id: UUID, idempotency_key: str, amount: Decimal | None = None) -> PaymentInfo:
    def plan(payment: Payment, requested: Decimal | None) -> Decimal:
        states.operation_check(payment.status, Op.CAPTURE)
        if Op.VOID in selectors.payment_operations_in_flight(payment=payment):
            raise PaymentNotAllowed("A void of this payment is in progress.")
        capturable = selectors.payment_capturable(payment=payment)
        value = capturable if requested is None else requested
        if not 0 < value <= capturable:
            raise PaymentNotAllowed(f"At most {money(capturable, payment.currency)} {payment.currency} "
                                    "can be captured.", extra={"capturable": str(money(capturable, payment.currency))})
        return value

    begun = _begin(payment_id=payment_id, operation=Op.CAPTURE, idempotency_key=idempotency_key,
                   requested=amount, plan=plan)
    if isinstance(begun, PaymentInfo):
        return begun
    tx, provider, breaker, payment = begun.tx, begun.provider, begun.breaker, begun.payment
    return _perform(tx, breaker, lambda: provider.capture(reference=payment.provider_reference, amount=tx.amount,
                                                          currency=payment.currency, idempotency_key=tx.provider_key))


def payment_void(*, payment_id: UUID, idempotency_key: str) -> PaymentInfo:
    def plan(payment: Payment, requested: Decimal | None) -> Decimal:
        states.operation_check(payment.status, Op.VOID)
        if selectors.payment_operations_in_flight(payment=payment) & {Op.CAPTURE, Op.VOID}:
            raise PaymentNotAllowed("A capture or void of this payment is in progress.")
        return payment.amount_authorized - payment.amount_captured

    begun = _begin(payment_id=payment_id, operation=Op.VOID, idempotency_key=idempotency_key, requested=None,
                   plan=plan)
    if isinstance(begun, PaymentInfo):
        return begun
    tx, provider, breaker, payment = begun.tx, begun.provider, begun.breaker, begun.payment
    return _perform(tx, breaker, lambda: provider.void(reference=payment.provider_reference,
                                                       idempotency_key=tx.provider_key))


def payment_refund(*, payment_id: UUID, idempotency_key: str, amount: Decimal | None = None) -> PaymentInfo:
    def plan(payment: Payment, requested: Decimal | None) -> Decimal:
        states.operation_check(payment.status, Op.REFUND)
        refundable = selectors.payment_refundable(payment=payment)
        value = refundable if requested is None else requested
        if not 0 < value <= refundable:
            raise PaymentNotAllowed(f"At most {money(refundable, payment.currency)} {payment.currency} "
                                    "can be refunded.", extra={"refundable": str(money(refundable, payment.currency))})
        return value

    begun = _begin(payment_id=payment_id, operation=Op.REFUND, idempotency_key=idempotency_key, requested=amount,
                   plan=plan)
    if isinstance(begun, PaymentInfo):
        return begun
    tx, provider, breaker, payment = begun.tx, begun.provider, begun.breaker, begun.payment
    return _perform(tx, breaker, lambda: provider.refund(reference=payment.provider_reference, amount=tx.amount,
                                                         currency=payment.currency, idempotency_key=tx.provider_key))


# ---------------------------------------------------------------- cancellation (saga compensation)

def payment_cancel_for_order(*, order_id: UUID) -> None:
    """Leave no authorization outstanding for the order, and no money taken: each of its
    payments is marked cancelled, then voided if authorized (refunded if already captured).
    A payment whose authorization outcome is unknown is settled as soon as reconciliation
    learns it was authorized. A provider that is down now does not fail the compensation:
    reconciliation retries the settlement. Idempotent."""
    for payment_id in Payment.objects.filter(order_id=order_id).values_list("id", flat=True):
        with transaction.atomic():
            payment = _lock(payment_id)
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


# ---------------------------------------------------------------- reconciliation

def payment_transaction_reconcile(*, transaction_id: UUID) -> PaymentTransaction:
    """Ask the provider for the outcome of a pending operation, by its idempotency key, and
    apply it. "Never received" is believed only once the operation is older than
    PAYMENTS_RECONCILE_AFTER_SECONDS (no request can still be on its way); before that, and
    while the provider cannot answer, the operation stays pending."""
    tx = PaymentTransaction.objects.select_related("payment").get(pk=transaction_id)
    if tx.outcome != TxOutcome.PENDING:
        return tx
    provider, breaker = _provider(tx.payment.provider)
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
    tx, _ = _resolve(tx.id, result, source="reconciliation")
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


# ---------------------------------------------------------------- webhooks

def webhook_receive(*, provider_name: str, body: bytes, timestamp: str | None,
                    signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify, deduplicate and apply a processor's webhook: (its record, first delivery?).
    Unknown providers raise UnknownProvider."""
    cls = provider_class(provider_name)
    webhook_signature_verify(secret=settings.PAYMENTS_WEBHOOK_SECRETS.get(provider_name, ""), timestamp=timestamp,
                             signature=signature, body=body,
                             tolerance_seconds=settings.PAYMENTS_WEBHOOK_TOLERANCE_SECONDS)
    try:
        notice = cls.webhook_notice(json_loads(body))
    except (ValueError, InvalidWebhook) as exc:
        raise WebhookInvalid(str(exc)[:200]) from exc
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    provider=provider_name, event_id=notice.event_id[:255], event_type=notice.event_type[:60],
                    payload=notice.result.raw, result=WebhookEvent.Result.UNMATCHED, received_at=timezone.now())
        except IntegrityError:
            return WebhookEvent.objects.get(provider=provider_name, event_id=notice.event_id[:255]), False
        tx = PaymentTransaction.objects.filter(provider_key=notice.idempotency_key,
                                               payment__provider=provider_name).first()
        if tx is not None:
            tx, applied = _resolve(tx.id, notice.result, source="webhook")
            if applied:
                event.result = WebhookEvent.Result.APPLIED
            elif tx.outcome == _TX_OUTCOME[notice.result.outcome]:
                event.result = WebhookEvent.Result.ALREADY_KNOWN
            else:
                event.result = WebhookEvent.Result.CONFLICT
                logger.error("payments: webhook %s says %s but %s %s was recorded %s", notice.event_id,
                             notice.result.outcome, tx.operation, tx.id, tx.outcome)
            event.transaction = tx
            event.save(update_fields=["result", "transaction"])
    return event, True
