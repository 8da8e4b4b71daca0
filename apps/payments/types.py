"""The types of payments that more than one module uses: PaymentInfo, the frozen dataclass
apps.payments.api hands to other apps (it re-exports it), and the outcomes the services pass
between steps. At run time this module imports nothing of the app, so any module of it may
import this one."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from apps.payments.breaker import CircuitBreaker
    from apps.payments.models import Payment, PaymentTransaction
    from apps.payments.providers.base import PaymentProvider


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


@dataclass(frozen=True)
class OperationBegun:
    """Step 1 of a capture, void or refund recorded the operation `pending`: step 2 calls
    `provider` through `breaker` with no transaction open."""

    tx: PaymentTransaction
    provider: PaymentProvider
    breaker: CircuitBreaker
    payment: Payment
