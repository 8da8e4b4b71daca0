"""The only module other apps may import from apps.payments (besides events.py).

Every operation is idempotent by key: the same key gives the same result and makes no second
provider call. Errors are typed; the API layer turns them into problem+json."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from apps.payments import selectors
from apps.payments.errors import (
    PaymentDeclined,
    PaymentIdempotencyKeyReused,
    PaymentNotAllowed,
    PaymentNotFound,
    PaymentProviderUnavailable,
    PaymentRequestInvalid,
)
from apps.payments.services import cancellation, operations
from apps.payments.types import PaymentInfo

__all__ = [
    "PaymentDeclined",
    "PaymentIdempotencyKeyReused",
    "PaymentInfo",
    "PaymentNotAllowed",
    "PaymentNotFound",
    "PaymentProviderUnavailable",
    "PaymentRequestInvalid",
    "payment_authorize",
    "payment_cancel_for_order",
    "payment_capture",
    "payment_for_order",
    "payment_refund",
    "payment_void",
]


def payment_authorize(*, order_id: UUID, amount: Decimal, currency: str, token: str, idempotency_key: str,
                      method: str = "card") -> PaymentInfo:
    """Authorize `amount` on the payment method `token`. Raises PaymentDeclined or
    PaymentProviderUnavailable; a timeout leaves the payment `pending` for reconciliation."""
    return operations.payment_authorize(order_id=order_id, amount=amount, currency=currency, token=token,
                                        idempotency_key=idempotency_key, method=method)


def payment_capture(*, payment_id: UUID, idempotency_key: str, amount: Decimal | None = None) -> PaymentInfo:
    """Capture `amount` (default: what remains authorized)."""
    return operations.payment_capture(payment_id=payment_id, idempotency_key=idempotency_key, amount=amount)


def payment_void(*, payment_id: UUID, idempotency_key: str) -> PaymentInfo:
    return operations.payment_void(payment_id=payment_id, idempotency_key=idempotency_key)


def payment_refund(*, payment_id: UUID, idempotency_key: str, amount: Decimal | None = None) -> PaymentInfo:
    """Refund `amount` (default: all that is captured and not yet refunded)."""
    return operations.payment_refund(payment_id=payment_id, idempotency_key=idempotency_key, amount=amount)


def payment_cancel_for_order(*, order_id: UUID) -> None:
    """Compensation: leave no authorization outstanding for the order. Voids an authorized
    payment; a payment whose outcome is still unknown is voided once reconciliation learns it
    was authorized. Idempotent."""
    cancellation.payment_cancel_for_order(order_id=order_id)


def payment_for_order(*, order_id: UUID) -> PaymentInfo | None:
    """The order's latest payment, or None."""
    return selectors.payment_for_order(order_id=order_id)
