"""Domain events that apps.payments publishes through the outbox (schemas/events/payments.*.v1.json).

Each carries the payment's amounts after the change, and `amount`: what this operation moved
(authorized, captured, voided = released, refunded; for a failure, what was asked)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from uuid import UUID

from apps.common.messaging.events import DomainEvent


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentEventBase(DomainEvent):
    payment_id: UUID
    order_id: UUID
    transaction_id: UUID  # the operation that caused it: consumers can dedupe on it
    amount: Decimal
    currency: str
    status: str
    amount_authorized: Decimal
    amount_captured: Decimal
    amount_refunded: Decimal
    method: str
    provider: str
    provider_reference: str

    def aggregate_id(self) -> str:
        return str(self.payment_id)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentAuthorized(PaymentEventBase):
    event_type = "payments.payment_authorized"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentCaptured(PaymentEventBase):
    event_type = "payments.payment_captured"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentVoided(PaymentEventBase):
    event_type = "payments.payment_voided"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentRefunded(PaymentEventBase):
    event_type = "payments.payment_refunded"
    refund_id: UUID


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentFailed(PaymentEventBase):
    """The authorization failed: declined, or failed at the provider. The payment is `failed`."""

    event_type = "payments.payment_failed"
    decline_code: str
    reason: str
