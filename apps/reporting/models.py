"""Read models on the `reporting` alias (SQL Server in production), built from domain events.

Every field is a function of the *set* of events seen, never of their order: timestamps come
from their own event type (earliest wins, latest for "last refund"), refunds are summed over
rows keyed by event id, payment amounts are the largest cumulative amount seen, statuses are
derived from the facts by precedence, and DailySales is recomputed from the rows below. A
shuffled or duplicated stream therefore converges to the in-order projection, and applying an
event twice changes nothing even without the inbox.

Portability (docs: shared/ARCHITECTURE.md): explicit primary keys (UUIDs or deterministic
strings), Decimal money, no check constraints, no database defaults.
"""

from __future__ import annotations

from django.db import models

from apps.common.models import AbstractInboxEvent

MONEY = {"max_digits": 14, "decimal_places": 3}  # as in apps.orders: 3 decimals covers every ISO 4217 minor unit
MONEY_SUM = {"max_digits": 18, "decimal_places": 3}


class OrderReport(models.Model):
    """One row per order, as far as its events have told us."""

    class Status(models.TextChoices):
        # Orders emit nothing before confirmation, so any order event means at least confirmed.
        CONFIRMED = "confirmed"
        SHIPPED = "shipped"
        CANCELLED = "cancelled"
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"

    order_id = models.UUIDField(primary_key=True)
    number = models.CharField(max_length=20, blank=True, default="")
    customer_id = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONFIRMED)
    subtotal = models.DecimalField(**MONEY, null=True, blank=True)
    # Shipping revenue: the order's shipping price (zero for an order that ships nothing, and for
    # orders whose events are version 1, which did not carry it).
    shipping_total = models.DecimalField(**MONEY, default=0)
    # Its discounts and tax (version 2 events; zero before issue #18). Tax is within the total when
    # the shop's prices include it, added to it otherwise: either way, the tax the order collected.
    discount_total = models.DecimalField(**MONEY, default=0)
    tax_total = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(**MONEY, null=True, blank=True)
    refunded_amount = models.DecimalField(**MONEY, default=0)
    # A refund event said the order is fully refunded (sum of refunds reaching the total says it too).
    fully_refunded = models.BooleanField(default=False)
    payment_id = models.UUIDField(null=True, blank=True)
    # Each timestamp is the occurred_at of its own event type.
    placed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)  # the latest refund
    # The UTC day of placed_at: the DailySales bucket, and what the from/to filters compare.
    placed_on = models.DateField(null=True, blank=True)
    last_event_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["placed_on", "currency"], name="reporting_order_day_idx"),
            models.Index(fields=["status", "placed_at"], name="reporting_order_status_idx"),
            models.Index(fields=["placed_at", "order_id"], name="reporting_order_placed_idx"),
        ]
        permissions = [("view_reports", "Can read the sales and order reports (API and CSV exports)")]

    def __str__(self):
        return self.number or str(self.order_id)


class OrderRefund(models.Model):
    """One row per orders.order_refunded event: refunds add up per event, and count on the day
    they happened."""

    event_id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField(db_index=True)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    occurred_at = models.DateTimeField()
    refunded_on = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["refunded_on", "currency"], name="reporting_refund_day_idx")]

    def __str__(self):
        return f"{self.amount} {self.currency} on {self.order_id}"


class DailySales(models.Model):
    """Sales per UTC day and currency, recomputed from OrderReport and OrderRefund.

    orders, gross, shipping, discount and tax: orders placed that day that are not cancelled (a
    cancelled order never sold anything: its payment was voided or refunded with it), their totals,
    the part of them that is shipping revenue, the discounts they were given and the tax they
    collected; refunds: refunds that happened that day; net = gross - refunds."""

    key = models.CharField(primary_key=True, max_length=14)  # "2026-11-21:USD"
    day = models.DateField()
    currency = models.CharField(max_length=3)
    orders = models.IntegerField(default=0)  # not Positive...: that is a CHECK constraint
    gross = models.DecimalField(**MONEY_SUM, default=0)
    shipping = models.DecimalField(**MONEY_SUM, default=0)  # of gross
    discount = models.DecimalField(**MONEY_SUM, default=0)  # taken off before gross
    tax = models.DecimalField(**MONEY_SUM, default=0)  # collected within gross
    refunds = models.DecimalField(**MONEY_SUM, default=0)
    net = models.DecimalField(**MONEY_SUM, default=0)

    class Meta:
        verbose_name_plural = "daily sales"
        indexes = [models.Index(fields=["day", "currency"], name="reporting_daily_day_idx")]

    def __str__(self):
        return self.key

    @staticmethod
    def key_for(day, currency: str) -> str:
        return f"{day.isoformat()}:{currency}"


class OrderDiscount(models.Model):
    """One row per promotion an order got (its order_placed event's discount lines): what each
    promotion gave, on which orders, through which code. A cancelled order's rows stay, marked."""

    key = models.CharField(primary_key=True, max_length=64)  # "<order id>:<promotion id>"
    order_id = models.UUIDField(db_index=True)
    promotion_id = models.BigIntegerField()
    promotion_name = models.CharField(max_length=100)
    voucher_code = models.CharField(max_length=64, blank=True, default="")  # "": applied automatically
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    placed_on = models.DateField()
    cancelled = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["promotion_id", "currency"], name="reporting_discount_promo_idx")]

    def __str__(self):
        return self.key

    @staticmethod
    def key_for(order_id, promotion_id: int) -> str:
        return f"{order_id}:{promotion_id}"


class PaymentReport(models.Model):
    """One row per payment, from payments.* events (a payment may belong to an order that was
    never placed: declined, or rejected for stock)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        FAILED = "failed"
        AUTHORIZED = "authorized"
        VOIDED = "voided"
        CAPTURED = "captured"
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"

    payment_id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField(null=True, blank=True, db_index=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount_authorized = models.DecimalField(**MONEY, null=True, blank=True)  # what payment_authorized moved
    # Payment events carry the payment's cumulative amounts, which only grow: the largest seen is the latest.
    amount_captured = models.DecimalField(**MONEY, default=0)
    amount_refunded = models.DecimalField(**MONEY, default=0)
    authorized_at = models.DateTimeField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField()

    def __str__(self):
        return str(self.payment_id)


class InboxEvent(AbstractInboxEvent):
    """The reporting consumer's inbox (apps.common.messaging.inbox), on the reporting alias: written in the
    same transaction as the projection change, so a redelivered event is applied once."""

    # Not PositiveIntegerField: on SQL Server that is a CHECK constraint (portability rule 7).
    redeliveries = models.IntegerField(default=0)

    class Meta(AbstractInboxEvent.Meta):
        verbose_name = "inbox event"
