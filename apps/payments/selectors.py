"""Payment reads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from apps.common.money import money
from apps.payments.errors import PaymentNotFound
from apps.payments.models import Payment, PaymentTransaction
from apps.payments.types import PaymentInfo


def payment_info(payment: Payment) -> PaymentInfo:
    currency = payment.currency
    # Stored with three decimals; answered with the currency's own (49.90 EUR, 1000 JPY).
    return PaymentInfo(payment_id=payment.id, order_id=payment.order_id, status=payment.status, currency=currency,
                       amount_authorized=money(payment.amount_authorized, currency),
                       amount_captured=money(payment.amount_captured, currency),
                       amount_refunded=money(payment.amount_refunded, currency), provider=payment.provider)


def payment_info_to_json(info: PaymentInfo) -> dict[str, Any]:
    return {"payment_id": str(info.payment_id), "order_id": str(info.order_id), "status": info.status,
            "currency": info.currency, "amount_authorized": str(info.amount_authorized),
            "amount_captured": str(info.amount_captured), "amount_refunded": str(info.amount_refunded),
            "provider": info.provider}


def payment_info_from_json(data: dict[str, Any]) -> PaymentInfo:
    return PaymentInfo(payment_id=UUID(data["payment_id"]), order_id=UUID(data["order_id"]), status=data["status"],
                       currency=data["currency"], amount_authorized=Decimal(data["amount_authorized"]),
                       amount_captured=Decimal(data["amount_captured"]),
                       amount_refunded=Decimal(data["amount_refunded"]), provider=data["provider"])


def payment_for_order(*, order_id: UUID) -> PaymentInfo | None:
    payment = Payment.objects.filter(order_id=order_id).order_by("-created_at", "-id").first()
    return None if payment is None else payment_info(payment)


def payment_get(*, payment_id: UUID) -> Payment:
    try:
        return Payment.objects.get(pk=payment_id)
    except (Payment.DoesNotExist, ValidationError) as exc:
        raise PaymentNotFound("No such payment.") from exc


def payment_list(*, order_id: UUID | None = None, status: str | None = None) -> QuerySet[Payment]:
    payments = Payment.objects.all()
    if order_id is not None:
        payments = payments.filter(order_id=order_id)
    if status is not None:
        payments = payments.filter(status=status)
    return payments


def payment_transactions(*, payment: Payment) -> QuerySet[PaymentTransaction]:
    return payment.transactions.order_by("created_at", "id")


def payment_capturable(*, payment: Payment) -> Decimal:
    """What a capture may still take: authorized, minus captured, minus captures in flight."""
    in_flight = _in_flight(payment, PaymentTransaction.Operation.CAPTURE)
    return payment.amount_authorized - payment.amount_captured - in_flight


def payment_refundable(*, payment: Payment) -> Decimal:
    """What a refund may still give back: captured, minus refunded, minus refunds in flight."""
    return payment.amount_captured - payment.amount_refunded - _in_flight(payment, PaymentTransaction.Operation.REFUND)


def payment_operations_in_flight(*, payment: Payment) -> set[str]:
    return set(payment.transactions.filter(outcome=PaymentTransaction.Outcome.PENDING)
               .values_list("operation", flat=True))


def _in_flight(payment: Payment, operation: str) -> Decimal:
    amounts = payment.transactions.filter(operation=operation, outcome=PaymentTransaction.Outcome.PENDING) \
        .values_list("amount", flat=True)
    return sum(amounts, Decimal(0))


def transactions_to_reconcile(*, older_than, limit: int = 500) -> list[UUID]:
    return list(PaymentTransaction.objects.filter(outcome=PaymentTransaction.Outcome.PENDING,
                                                  created_at__lt=older_than)
                .order_by("created_at").values_list("id", flat=True)[:limit])


def payments_cancelled_with_money_held(*, limit: int = 500) -> list[UUID]:
    """Payments whose order was cancelled but that still hold an authorization or a capture."""
    S = Payment.Status
    return list(Payment.objects.filter(cancel_requested=True, status__in=[
        S.AUTHORIZED, S.PARTIALLY_CAPTURED, S.CAPTURED, S.PARTIALLY_REFUNDED,
    ]).order_by("updated_at").values_list("id", flat=True)[:limit])
