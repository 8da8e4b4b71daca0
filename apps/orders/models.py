import uuid

from django.conf import settings
from django.db import models


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        CONFIRMED = "confirmed"
        SHIPPED = "shipped"
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"
        CANCELLED = "cancelled"
        REJECTED = "rejected"
        PAYMENT_FAILED = "payment_failed"

    class SagaStep(models.TextChoices):
        """How far placement got; recovery reads it to drive forward or compensate."""

        CREATED = "created"  # order and lines written, nothing reserved yet
        RESERVING = "reserving"  # stock reservation requested
        AUTHORIZING = "authorizing"  # stock held, authorization requested (outcome may be unknown)
        COMPLETED = "completed"  # confirmed: stock held and payment authorized
        COMPENSATED = "compensated"  # terminal: stock released, no authorization outstanding

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=20, unique=True)
    # None for a guest order (placed with an email, no account); it joins the account that
    # verifies that email (apps.orders.customers.guest_orders_attach).
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders",
                                 null=True, blank=True)
    idempotency_key = models.CharField(max_length=255)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True, default="")
    currency = models.CharField(max_length=3)
    # The totals breakdown: total = subtotal + shipping_total - discount_total + tax_total; when
    # prices_include_tax, the tax is in the prices already: total = subtotal + shipping_total - discount_total.
    subtotal = models.DecimalField(max_digits=14, decimal_places=3)
    shipping_total = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    discount_total = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    tax_total = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=3)
    prices_include_tax = models.BooleanField(default=False)
    # Frozen from the priced cart (apps.pricing), as JSON with money as strings: a later change of
    # a rate or a promotion never changes them. tax_lines: [{key (SKU or "shipping"), tax_class,
    # rate, base, amount}]; discount_lines: [{promotion_id, promotion_name, kind, voucher_code,
    # amount, allocations: [{key, amount}]}]; voucher_codes: the codes whose uses the order holds.
    tax_lines = models.JSONField(default=list, blank=True)
    discount_lines = models.JSONField(default=list, blank=True)
    voucher_codes = models.JSONField(default=list, blank=True)
    tax_id = models.CharField(max_length=32, blank=True, default="")  # the customer's VAT number
    zero_rated = models.BooleanField(default=False)  # reverse charge: taxed at 0 %
    refunded_amount = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    saga_step = models.CharField(max_length=20, choices=SagaStep.choices, default=SagaStep.CREATED)
    payment_id = models.UUIDField(null=True, blank=True)
    # Frozen copies from the cart it was completed from (checkout); empty on an order placed
    # server-to-server (POST /api/v1/orders/), which ships nothing.
    cart_id = models.UUIDField(null=True, blank=True)
    shipping_address = models.JSONField(null=True, blank=True)
    billing_address = models.JSONField(null=True, blank=True)
    shipping_method = models.CharField(max_length=100, blank=True, default="")  # its name when ordered
    shipping_method_id = models.BigIntegerField(null=True, blank=True)  # checkout's id: a plain id, no FK
    version = models.PositiveIntegerField(default=1)
    # A staff action (ship, cancel, refund) claims the order before calling other modules, so that
    # two actions at once never both reach the payment provider; a crashed claim goes stale.
    action = models.CharField(max_length=20, blank=True, default="")
    action_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)  # payment captured
    shipped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "idempotency_key"], name="order_customer_idempotency_uniq"),
            # A cart completes into one order: at most one order per cart that is not a failed
            # attempt (rejected for stock or payment_failed), so the customer may try again.
            models.UniqueConstraint(fields=["cart_id"], name="order_cart_uniq",
                                    condition=models.Q(cart_id__isnull=False)
                                    & ~models.Q(status__in=["rejected", "payment_failed"])),
            # One order per completion key of a cart, failed or not: the same key again finds it
            # by the insert's duplicate, with nothing read first.
            models.UniqueConstraint(fields=["cart_id", "idempotency_key"], name="order_cart_key_uniq",
                                    condition=models.Q(cart_id__isnull=False)),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="order_status_updated_idx")]
        permissions = [
            ("ship_order", "Can ship an order (captures its payment)"),
            ("cancel_order", "Can cancel any customer's order"),
            ("refund_order", "Can refund an order"),
            ("add_note", "Can add a note to an order's timeline"),
        ]

    def __str__(self):
        return self.number


class OrderLine(models.Model):
    """A snapshot of the product at placement: later catalog changes do not alter the order.

    line_total is unit_price x quantity as entered; discount_total the line's share of the
    order's discounts, tax_total its tax; total what the customer paid for the line (line_total
    - discount_total, + tax_total when prices are net). A refund of some units gives back their
    share of total (apps.pricing.api.line_refund); refunded_* add those shares up."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    unit_price = models.DecimalField(max_digits=14, decimal_places=3)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=14, decimal_places=3)
    tax_class = models.CharField(max_length=32, blank=True, default="")
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)  # percent
    discount_total = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    tax_total = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=3)
    refunded_quantity = models.PositiveIntegerField(default=0)
    refunded_amount = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    refunded_tax = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    refunded_discount = models.DecimalField(max_digits=14, decimal_places=3, default=0)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["order", "sku"], name="order_line_sku_uniq")]

    def __str__(self):
        return f"{self.quantity} x {self.sku}"


class OrderEvent(models.Model):
    """The order's audit timeline: status changes, saga steps, payments, notes, with the actor."""

    class Kind(models.TextChoices):
        STATUS = "status"
        SAGA = "saga"
        PAYMENT = "payment"
        NOTE = "note"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
    message = models.TextField(blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.order_id} {self.kind} {self.to_status or self.message[:40]}"


class RefundRecord(models.Model):
    """One refund the order made, by its idempotency key: a second call with the same key finds
    it and refunds nothing more (the payment side dedupes on the same key)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refund_records")
    idempotency_key = models.CharField(max_length=255)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "idempotency_key"], name="order_refund_key_uniq")]

    def __str__(self):
        return f"{self.order_id} refund {self.amount} ({self.idempotency_key})"
