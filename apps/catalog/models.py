"""Catalog data. It lives on the `catalog` alias: MongoDB in production, PostgreSQL in tests,
SQLite in the embedded default. Portability rules (docs: ARCHITECTURE.md) shape every model:
explicit primary keys (a SKU, a slug or a UUID, never an AutoField); no check constraints, so no
Positive*Field either (the services check signs); no database defaults; relations only inside
the catalog, and without database constraints where rows may be written in either order."""

import uuid

from django.db import models

from apps.catalog.types import DEFAULT_TAX_CLASS


class Category(models.Model):
    slug = models.SlugField(primary_key=True, max_length=64)  # lower case: never relies on collation
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Product(models.Model):
    """A sellable item. `version` grows with every change: it is the ETag of the detail."""

    sku = models.CharField(primary_key=True, max_length=64)  # upper case, see validation.SKU_PATTERN
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="products")
    # Quantized to the currency's minor unit by apps.common.money (3 places cover BHD, KWD, JOD).
    price = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    # Checkout prices weight-banded shipping with it.
    weight = models.DecimalField(max_digits=10, decimal_places=3, default=0,
                                 help_text="Shipping weight in kilograms, to the gram (at most 3 decimal places).")
    # A code of apps.pricing's tax classes (another database: a plain value, checked on write).
    tax_class = models.CharField(max_length=32, default=DEFAULT_TAX_CLASS,
                                 help_text="What kind of goods this is, for tax (pricing's tax classes).")
    active = models.BooleanField(default=True)
    attributes = models.JSONField(default=dict, blank=True)
    version = models.IntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["sku"]
        indexes = [
            models.Index(fields=["active", "sku"], name="catalog_product_active_idx"),
            models.Index(fields=["category", "sku"], name="catalog_product_category_idx"),
            models.Index(fields=["price"], name="catalog_product_price_idx"),
        ]
        permissions = [
            ("adjust_stock", "Can adjust a product's stock"),
            ("change_price", "Can change a product's price or currency"),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"


class Stock(models.Model):
    """The units of one SKU. Every change is one conditional update of this row, so that
    available + held + committed == stocked and on_hand == available + held hold after each
    write, on any engine, with no transaction (see the services package).

    stocked: every unit ever put in, minus units taken out by adjustments;
    available: can be reserved now; held: reserved for orders not yet shipped;
    committed: shipped; on_hand: physically in the warehouse (available + held)."""

    # No database constraint: the stock row is written before its product (see product_create).
    product = models.OneToOneField(Product, primary_key=True, on_delete=models.CASCADE, db_constraint=False,
                                   db_column="sku", related_name="stock")
    stocked = models.IntegerField(default=0)
    on_hand = models.IntegerField(default=0)
    available = models.IntegerField(default=0)
    held = models.IntegerField(default=0)
    committed = models.IntegerField(default=0)
    version = models.IntegerField(default=1)
    # The head of this SKU's chain of applied adjustments (see services.adjustments.stock_adjust).
    last_adjustment_id = models.UUIDField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "stock"

    def __str__(self):
        return f"{self.product_id}: {self.available} available"


class StockAdjustment(models.Model):
    """Audit of a staff change to a SKU's stock: who, why, how many. Written before the stock
    changes ("pending"), then marked applied or rejected; the sweeper settles rows whose
    writer died in between (services.adjustments.stock_adjustments_settle)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPLIED = "applied"
        REJECTED = "rejected"  # not enough available units to take out
        VOID = "void"  # its writer died before the stock changed

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.DO_NOTHING, db_constraint=False, db_column="sku",
                                related_name="stock_adjustments")
    delta = models.IntegerField()
    reason = models.CharField(max_length=500)
    actor_id = models.CharField(max_length=64, blank=True, default="")  # a user id of the default alias
    actor_name = models.CharField(max_length=150, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # The adjustment applied just before this one: adjustments of a SKU form a chain.
    previous_adjustment_id = models.UUIDField(null=True, blank=True)
    stocked_after = models.IntegerField(null=True, blank=True)
    available_after = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["product", "created_at"], name="catalog_adjust_sku_idx"),
            models.Index(fields=["status", "created_at"], name="catalog_adjust_status_idx"),
            models.Index(fields=["previous_adjustment_id"], name="catalog_adjust_previous_idx"),
        ]

    def __str__(self):
        return f"{self.product_id} {self.delta:+d} ({self.status})"


class Reservation(models.Model):
    """Units of one SKU held for one order: one row per (order, SKU), whose id is derived from
    both (services.reservations.reservation_id), so writing it twice is impossible.

    `settling_since` is set while the row's stock counters are being changed (the row is always
    written first); a row whose writer died keeps it, and the sweeper recomputes the SKU's
    counters from the rows (services.sweeper.stock_reconcile)."""

    class Status(models.TextChoices):
        PENDING = "pending"  # written; its units are being taken
        HELD = "held"
        COMMITTED = "committed"  # shipped: the units left the stock
        RELEASED = "released"
        EXPIRED = "expired"

    id = models.UUIDField(primary_key=True, editable=False)
    order_id = models.UUIDField()
    sku = models.CharField(max_length=64)
    quantity = models.IntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    expires_at = models.DateTimeField(null=True, blank=True)  # None: held until committed or released
    settling_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["order_id"], name="catalog_resv_order_idx"),
            models.Index(fields=["sku", "status"], name="catalog_resv_sku_status_idx"),
            models.Index(fields=["status", "expires_at"], name="catalog_resv_expiry_idx"),
            models.Index(fields=["settling_since"], name="catalog_resv_settling_idx"),
        ]

    def __str__(self):
        return f"{self.order_id} {self.sku} x{self.quantity} ({self.status})"


class ReservationEvent(models.Model):
    """Audit trail of a reservation: one row per status transition."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reservation_id = models.UUIDField()
    order_id = models.UUIDField()
    sku = models.CharField(max_length=64)
    quantity = models.IntegerField()
    from_status = models.CharField(max_length=10, blank=True, default="")
    to_status = models.CharField(max_length=10)
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["order_id", "created_at"], name="catalog_resv_event_order_idx")]

    def __str__(self):
        return f"{self.order_id} {self.sku}: {self.from_status or '-'} -> {self.to_status}"
