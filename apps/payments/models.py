"""The canonical payment model, whatever the provider: a payment, its log of provider
operations (every attempt, with its outcome and raw answer) and its refunds.

Amounts are Decimal with three decimal places in the database (the largest ISO 4217 minor unit);
services quantize them to the payment's currency (apps.common.money)."""

import uuid

from django.db import models
from django.db.models import F, Q

from apps.common.money import money_display

AMOUNT = {"max_digits": 18, "decimal_places": 3}


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"  # authorization sent, outcome not known yet
        AUTHORIZED = "authorized"
        PARTIALLY_CAPTURED = "partially_captured"
        CAPTURED = "captured"  # nothing left to capture (the rest, if any, was voided)
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"
        VOIDED = "voided"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_id = models.UUIDField(db_index=True)  # apps.orders' id: a plain id, never a foreign key
    method = models.CharField(max_length=30)
    provider = models.CharField(max_length=30)
    provider_reference = models.CharField(max_length=255, blank=True, default="")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**AMOUNT)  # what was asked to authorize
    amount_authorized = models.DecimalField(**AMOUNT, default=0)
    amount_captured = models.DecimalField(**AMOUNT, default=0)
    amount_refunded = models.DecimalField(**AMOUNT, default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # Its order was cancelled: whatever the provider authorized must be voided (or refunded).
    cancel_requested = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(name="payment_captured_lte_authorized",
                                   condition=Q(amount_captured__lte=F("amount_authorized"))),
            models.CheckConstraint(name="payment_refunded_lte_captured",
                                   condition=Q(amount_refunded__lte=F("amount_captured"))),
            models.CheckConstraint(name="payment_amounts_not_negative",
                                   condition=Q(amount__gt=0, amount_refunded__gte=0)),
        ]
        permissions = [
            ("capture_payment", "Can capture a payment"),
            ("void_payment", "Can void a payment"),
            ("refund_payment", "Can refund a payment"),
        ]

    def __str__(self):
        return f"{self.id} {money_display(self.amount, self.currency)} ({self.status})"


class PaymentTransaction(models.Model):
    """One provider operation on a payment: the idempotency record of (operation, key) and the
    audit row of the transition it caused (status_before -> status_after)."""

    class Operation(models.TextChoices):
        AUTHORIZE = "authorize"
        CAPTURE = "capture"
        VOID = "void"
        REFUND = "refund"

    class Outcome(models.TextChoices):
        PENDING = "pending"  # sent (or about to be), answer not known
        SUCCEEDED = "succeeded"
        DECLINED = "declined"  # the provider refused it (card declined, funds, ...)
        FAILED = "failed"  # the provider failed it, or never received it

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="transactions")
    operation = models.CharField(max_length=10, choices=Operation.choices)
    idempotency_key = models.CharField(max_length=255)
    provider_key = models.CharField(max_length=300, unique=True)  # the Idempotency-Key the provider sees
    request_fingerprint = models.CharField(max_length=64)  # SHA-256 of what was asked (never the raw token)
    amount = models.DecimalField(**AMOUNT)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    provider_reference = models.CharField(max_length=255, blank=True, default="")
    decline_code = models.CharField(max_length=60, blank=True, default="")
    message = models.CharField(max_length=255, blank=True, default="")
    raw_response = models.JSONField(null=True, blank=True)
    resolved_by = models.CharField(max_length=20, blank=True, default="")  # response, webhook, reconciliation
    status_before = models.CharField(max_length=20, blank=True, default="")
    status_after = models.CharField(max_length=20, blank=True, default="")
    result = models.JSONField(null=True, blank=True)  # the PaymentInfo answered, replayed for the same key
    created_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "idempotency_key"], name="payment_tx_operation_key_uniq"),
        ]
        indexes = [models.Index(fields=["outcome", "created_at"], name="payment_tx_outcome_idx")]

    def __str__(self):
        return f"{self.operation} {money_display(self.amount, self.payment.currency)} ({self.outcome})"


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    transaction = models.OneToOneField(PaymentTransaction, on_delete=models.PROTECT, related_name="refund")
    amount = models.DecimalField(**AMOUNT)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    provider_reference = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(name="refund_amount_positive", condition=Q(amount__gt=0))]

    def __str__(self):
        return f"refund {self.amount} ({self.status})"


class WebhookEvent(models.Model):
    """A processor's webhook, once per (provider, event id): a redelivery is acknowledged, not applied."""

    class Result(models.TextChoices):
        APPLIED = "applied"  # it resolved an operation
        ALREADY_KNOWN = "already_known"  # the operation had its outcome already (e.g. from the response)
        CONFLICT = "conflict"  # it contradicts the outcome we recorded: logged for a human
        UNMATCHED = "unmatched"  # no operation of ours has that key

    provider = models.CharField(max_length=30)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    result = models.CharField(max_length=15, choices=Result.choices)
    transaction = models.ForeignKey(PaymentTransaction, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="webhook_events")
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="payment_webhook_event_uniq")]

    def __str__(self):
        return f"{self.provider} {self.event_id} ({self.result})"
