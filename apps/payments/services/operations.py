"""Payment operations: authorize, capture, void, refund.

Every provider operation runs in the same three steps, so every one has the same guarantees:

1. Begin, in a short transaction with the payment row locked (select_for_update): a known
   (operation, idempotency key) is answered from its record with no provider call; otherwise
   the status table and the amounts are checked (counting operations still in flight), the
   circuit breaker is asked, and the operation is recorded `pending`. This commits before the
   provider is called, so a crash during the call leaves a row that reconciliation resolves.
2. Call the provider with no transaction open (no lock held across the network), sending the
   operation's idempotency key.
3. Resolve (apps.payments.services.resolution), in a transaction with the payment locked: only
   a `pending` operation changes anything. The synchronous answer, the processor's webhook and
   reconciliation may all carry the outcome, in any order and at the same time; exactly one of
   them makes the transition, writes its audit row and its outbox event.

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

from apps.common.money import InvalidMoney, money
from apps.payments import selectors, states
from apps.payments.breaker import CircuitBreaker
from apps.payments.errors import (
    PaymentDeclined,
    PaymentIdempotencyKeyReused,
    PaymentNotAllowed,
    PaymentNotFound,
    PaymentProviderUnavailable,
    PaymentRequestInvalid,
)
from apps.payments.models import Payment, PaymentTransaction, Refund
from apps.payments.providers import UnknownProvider, provider_name_for_method, provider_named
from apps.payments.providers.base import (
    Outcome,
    PaymentProvider,
    ProviderNotReached,
    ProviderOutcomeUnknown,
    ProviderResult,
)
from apps.payments.services.resolution import operation_resolve
from apps.payments.types import OperationBegun, PaymentInfo

logger = logging.getLogger(__name__)

S = Payment.Status
Op = PaymentTransaction.Operation
TxOutcome = PaymentTransaction.Outcome


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


def provider_for(name: str) -> tuple[PaymentProvider, CircuitBreaker]:
    try:
        return provider_named(name), CircuitBreaker(name)
    except (UnknownProvider, ImproperlyConfigured) as exc:
        logger.error("payments: provider %s is not usable: %s", name, exc)
        raise PaymentProviderUnavailable(f"The payment provider {name} is not configured.") from exc


def payment_lock(payment_id: UUID) -> Payment:
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


def _perform(tx: PaymentTransaction, payment: Payment, breaker: CircuitBreaker,
             call: Callable[[], ProviderResult]) -> PaymentInfo:
    """Steps 2 and 3; `payment` as it was when `tx` was recorded pending."""
    result = _send(breaker, tx, call)
    if result is not None:
        tx, _ = operation_resolve(tx.id, result, source="response", pending=(tx, payment))
    else:
        tx.refresh_from_db()  # a webhook may have brought the outcome meanwhile
    return _answer(tx)


def payment_authorize(*, order_id: UUID, amount: Decimal, currency: str, token: str, idempotency_key: str,
                      method: str = "card") -> PaymentInfo:
    _key_check(idempotency_key)
    amount = _amount(amount, currency)
    fingerprint = _fingerprint(operation=Op.AUTHORIZE, order_id=str(order_id), amount=str(amount), currency=currency,
                               method=method, token=hashlib.sha256(token.encode()).hexdigest())
    # No read first: the unique (operation, key) says whether the key is known (the insert fails).
    try:
        provider_name = provider_name_for_method(method)
    except UnknownProvider as exc:
        raise PaymentRequestInvalid(str(exc)) from exc
    provider, breaker = provider_for(provider_name)
    try:
        breaker.before_call()  # open: refused at once, nothing recorded
    except PaymentProviderUnavailable:
        existing = _existing(Op.AUTHORIZE, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, fingerprint)  # a known key is answered, open breaker or not
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
        # The key is known (a retry, or the same key racing us): answer what the first one answers.
        return _replay(PaymentTransaction.objects.get(operation=Op.AUTHORIZE, idempotency_key=idempotency_key),
                       fingerprint)
    return _perform(tx, payment, breaker, lambda: provider.authorize(amount=amount, currency=currency, token=token,
                                                            idempotency_key=tx.provider_key))


def _amount_within(requested: Decimal | None, limit: Decimal, payment: Payment, *, verb: str,
                   limit_name: str) -> Decimal:
    """The amount asked for (None: all of `limit`), if it is above zero and at most `limit`."""
    value = limit if requested is None else requested
    if not 0 < value <= limit:
        shown = money(limit, payment.currency)
        raise PaymentNotAllowed(f"At most {shown} {payment.currency} can be {verb}.", extra={limit_name: str(shown)})
    return value


def _begin(*, payment_id: UUID, operation: str, idempotency_key: str, requested: Decimal | None,
           plan: Callable[[Payment, Decimal | None], Decimal]) -> OperationBegun | PaymentInfo:
    """Step 1 for capture, void and refund: the operation recorded pending, or the recorded
    answer of a known key."""
    _key_check(idempotency_key)
    now = timezone.now()
    try:
        with transaction.atomic():
            payment = payment_lock(payment_id)
            amount = None if requested is None else _amount(requested, payment.currency)
            fingerprint = _fingerprint(operation=operation, payment_id=str(payment.id),
                                       amount=None if amount is None else str(amount))
            existing = _existing(operation, idempotency_key)
            if existing is not None:
                return _replay(existing, fingerprint)
            value = plan(payment, amount)
            provider, breaker = provider_for(payment.provider)
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
        return _amount_within(requested, selectors.payment_capturable(payment=payment), payment, verb="captured",
                              limit_name="capturable")

    begun = _begin(payment_id=payment_id, operation=Op.CAPTURE, idempotency_key=idempotency_key,
                   requested=amount, plan=plan)
    if isinstance(begun, PaymentInfo):
        return begun
    tx, provider, breaker, payment = begun.tx, begun.provider, begun.breaker, begun.payment
    return _perform(tx, payment, breaker, lambda: provider.capture(
        reference=payment.provider_reference, amount=tx.amount, currency=payment.currency,
        idempotency_key=tx.provider_key))


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
    return _perform(tx, payment, breaker, lambda: provider.void(reference=payment.provider_reference,
                                                       idempotency_key=tx.provider_key))


def payment_refund(*, payment_id: UUID, idempotency_key: str, amount: Decimal | None = None) -> PaymentInfo:
    def plan(payment: Payment, requested: Decimal | None) -> Decimal:
        states.operation_check(payment.status, Op.REFUND)
        return _amount_within(requested, selectors.payment_refundable(payment=payment), payment, verb="refunded",
                              limit_name="refundable")

    begun = _begin(payment_id=payment_id, operation=Op.REFUND, idempotency_key=idempotency_key, requested=amount,
                   plan=plan)
    if isinstance(begun, PaymentInfo):
        return begun
    tx, provider, breaker, payment = begun.tx, begun.provider, begun.breaker, begun.payment
    return _perform(tx, payment, breaker, lambda: provider.refund(
        reference=payment.provider_reference, amount=tx.amount, currency=payment.currency,
        idempotency_key=tx.provider_key))
