"""The only module other apps may import from apps.payments (besides events.py).

Every operation is idempotent by key: the same key gives the same result and makes no second
provider call. Errors are typed; the API layer turns them into problem+json."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from apps.common.problems import ApplicationError, NotFound, ServiceUnavailable


@dataclass(frozen=True)
class PaymentInfo:
    payment_id: UUID
    order_id: UUID
    status: str  # pending, authorized, partially_captured, captured, partially_refunded, refunded, voided, failed
    currency: str
    amount_authorized: Decimal
    amount_captured: Decimal
    amount_refunded: Decimal
    provider: str


class PaymentDeclined(ApplicationError):
    code, status, title = "payment_declined", 402, "The payment was declined."


class PaymentProviderUnavailable(ServiceUnavailable):
    """The provider is down, timed out or the circuit breaker is open: try again later."""

    code, status, title = "payment_provider_unavailable", 503, "The payment provider is unavailable."


class PaymentNotAllowed(ApplicationError):
    """The payment's state or amounts do not allow this operation (e.g. capture more than authorized)."""

    code, status, title = "payment_not_allowed", 409, "The payment does not allow this operation."


class PaymentNotFound(NotFound):
    """No payment has this id."""


class PaymentRequestInvalid(ApplicationError):
    """The amount, currency or payment method cannot be used (e.g. more decimals than the currency has)."""

    code, status, title = "payment_request_invalid", 422, "The payment request is invalid."


class PaymentIdempotencyKeyReused(ApplicationError):
    """The idempotency key was already used for this operation with other arguments."""

    code, status, title = ("payment_idempotency_key_reused", 422,
                           "This idempotency key was used for a different payment operation.")


def payment_authorize(*, order_id: UUID, amount: Decimal, currency: str, token: str, idempotency_key: str,
                      method: str = "card") -> PaymentInfo:
    """Authorize `amount` on the payment method `token`. Raises PaymentDeclined or
    PaymentProviderUnavailable; a timeout leaves the payment `pending` for reconciliation."""
    from apps.payments.services import payment_authorize as _authorize

    return _authorize(order_id=order_id, amount=amount, currency=currency, token=token,
                      idempotency_key=idempotency_key, method=method)


def payment_capture(*, payment_id: UUID, idempotency_key: str, amount: Decimal | None = None) -> PaymentInfo:
    """Capture `amount` (default: what remains authorized)."""
    from apps.payments.services import payment_capture as _capture

    return _capture(payment_id=payment_id, idempotency_key=idempotency_key, amount=amount)


def payment_void(*, payment_id: UUID, idempotency_key: str) -> PaymentInfo:
    from apps.payments.services import payment_void as _void

    return _void(payment_id=payment_id, idempotency_key=idempotency_key)


def payment_refund(*, payment_id: UUID, idempotency_key: str, amount: Decimal | None = None) -> PaymentInfo:
    """Refund `amount` (default: all that is captured and not yet refunded)."""
    from apps.payments.services import payment_refund as _refund

    return _refund(payment_id=payment_id, idempotency_key=idempotency_key, amount=amount)


def payment_cancel_for_order(*, order_id: UUID) -> None:
    """Compensation: leave no authorization outstanding for the order. Voids an authorized
    payment; a payment whose outcome is still unknown is voided once reconciliation learns it
    was authorized. Idempotent."""
    from apps.payments.services import payment_cancel_for_order as _cancel

    _cancel(order_id=order_id)


def payment_for_order(*, order_id: UUID) -> PaymentInfo | None:
    """The order's latest payment, or None."""
    from apps.payments.selectors import payment_for_order as _for_order

    return _for_order(order_id=order_id)
