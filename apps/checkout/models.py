"""Carts and shipping. Both live on the `default` alias (PostgreSQL; SQLite in the embedded
default): cart writes lock the cart row (select_for_update) and bump its version in the same
transaction. Catalog data is referred to by SKU only and read through apps.catalog.api."""

import uuid

from django.conf import settings
from django.db import models


class ShippingZone(models.Model):
    """A set of countries that the zone's methods ship to."""

    name = models.CharField(max_length=100, unique=True)
    countries = models.JSONField(default=list, help_text="ISO 3166-1 alpha-2 codes, e.g. [\"DE\", \"FR\"].")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ShippingMethod(models.Model):
    """A way to ship to a zone, in one currency, priced by `kind`: a flat price, or the band of
    rates that holds the cart's subtotal or weight. Free at or above `free_above` (subtotal)."""

    class Kind(models.TextChoices):
        FLAT = "flat", "Flat price"
        SUBTOTAL = "subtotal", "By order subtotal"
        WEIGHT = "weight", "By weight (kg)"

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="methods")
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FLAT)
    price = models.DecimalField(max_digits=14, decimal_places=3, default=0,
                                help_text="The price of a flat method (band methods price by their rates).")
    free_above = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True,
                                     help_text="Subtotal at or above which shipping is free; empty: never.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["zone__name", "name"]

    def __str__(self):
        return f"{self.zone.name}: {self.name} ({self.currency})"


class ShippingRate(models.Model):
    """One band of a subtotal or weight method: from `min_value` (inclusive) to `max_value`
    (exclusive; empty: no upper bound), shipping costs `price`."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="rates")
    min_value = models.DecimalField(max_digits=14, decimal_places=3, default=0,
                                    help_text="Subtotal in the method's currency, or weight in kg (inclusive).")
    max_value = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True,
                                    help_text="Exclusive; empty: no upper bound.")
    price = models.DecimalField(max_digits=14, decimal_places=3)

    class Meta:
        ordering = ["method", "min_value"]

    def __str__(self):
        upper = "" if self.max_value is None else f"{self.max_value}"
        return f"[{self.min_value}, {upper}) -> {self.price}"


class Cart(models.Model):
    """A guest's (secret token) or a customer's cart. `version` grows with every write: it is the
    cart's ETag. An open cart untouched until `expires_at` is purged; writes push it back."""

    class Status(models.TextChoices):
        OPEN = "open"
        COMPLETING = "completing"  # its completion is placing the order: no change until it ends
        CLOSED = "closed"

    class ClosedReason(models.TextChoices):
        MERGED = "merged"  # its lines went into the customer's cart at sign-in (`merged_into`)
        COMPLETED = "completed"  # it became the order `order_id` (apps.checkout.completion)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)  # SHA-256 of the secret cart token
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="carts")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_reason = models.CharField(max_length=10, choices=ClosedReason.choices, blank=True, default="")
    merged_into = models.UUIDField(null=True, blank=True)
    shipping_address = models.JSONField(null=True, blank=True)  # validated snapshot
    billing_address = models.JSONField(null=True, blank=True)
    shipping_method = models.ForeignKey(ShippingMethod, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    # Voucher codes applied (upper case, in the order given): apps.pricing decides, each time the
    # cart is priced, what each one gives; one that gives nothing shows in the cart's code_problems.
    voucher_codes = models.JSONField(default=list, blank=True)
    # A business customer's VAT number (checked by apps.pricing): zero-rated under reverse charge.
    tax_id = models.CharField(max_length=32, blank=True, default="")
    # Completion (apps.checkout.completion): the Idempotency-Key of the completion under way or
    # done and when it began; the order it placed; why the last one failed, if it did.
    completion_key = models.CharField(max_length=255, blank=True, default="")
    completion_started_at = models.DateTimeField(null=True, blank=True)
    order_id = models.UUIDField(null=True, blank=True)
    last_failure = models.JSONField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            # A cart being completed is still the customer's: a failed completion reopens it.
            models.UniqueConstraint(fields=["customer", "currency"],
                                    condition=models.Q(status__in=["open", "completing"]),
                                    name="cart_open_per_customer_currency_uniq"),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="cart_status_expiry_idx"),
            models.Index(fields=["status", "updated_at"], name="cart_status_updated_idx"),
        ]

    def __str__(self):
        return f"cart {self.id} ({self.status})"


class CartLine(models.Model):
    """A quantity of one SKU. `unit_price` is the catalog price when the line was last written:
    a cart read warns when the catalog's price has moved since."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=3)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["cart", "sku"], name="cart_line_sku_uniq")]

    def __str__(self):
        return f"{self.quantity} x {self.sku}"
