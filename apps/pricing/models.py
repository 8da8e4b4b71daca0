"""Tax classes and rates, promotions, vouchers and the ledger of voucher uses. All on the `default`
alias (PostgreSQL; SQLite in the embedded default). Catalog products and orders are referred to
by plain values (a tax class code, category slugs, SKUs, an order's UUID), never foreign keys."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from apps.pricing.types import PromotionKind, PromotionScope, VoucherUseStatus

_COUNTRY = RegexValidator(r"^[A-Z]{2}$", "An ISO 3166-1 alpha-2 country code in upper case, e.g. DE.")


def _choices(enum_class) -> list[tuple[str, str]]:
    return [(member.value, member.value.replace("_", " ")) for member in enum_class]


class TaxClass(models.Model):
    """What kind of goods a product is, for tax (standard, reduced, zero, exempt are seeded).
    Products name their class by `code` (the catalog keeps the code, not a foreign key)."""

    code = models.SlugField(primary_key=True, max_length=32)
    name = models.CharField(max_length=100)
    exempt = models.BooleanField(default=False, help_text="Never taxed, whatever the rate table says.")

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "tax classes"

    def __str__(self):
        return self.name


class TaxRate(models.Model):
    """The rate of one tax class in a country, or in one region of it (a region's rate replaces
    the country's for that class)."""

    country = models.CharField(max_length=2, validators=[_COUNTRY])
    region = models.CharField(max_length=64, blank=True, default="",
                              help_text="Empty: the whole country. Otherwise the address's region code, e.g. CA.")
    tax_class = models.ForeignKey(TaxClass, on_delete=models.PROTECT, related_name="rates")
    rate = models.DecimalField(max_digits=7, decimal_places=4,
                               validators=[MinValueValidator(0), MaxValueValidator(100)],
                               help_text="Percent, e.g. 19 or 7.25.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "region", "tax_class"]
        constraints = [
            models.UniqueConstraint(fields=["country", "region", "tax_class"], name="pricing_taxrate_uniq"),
        ]

    def __str__(self):
        where = f"{self.country}-{self.region}" if self.region else self.country
        return f"{where} {self.tax_class_id} {self.rate} %"

    def save(self, *args, **kwargs):
        self.country = self.country.upper()
        self.region = self.region.strip().upper()
        super().save(*args, **kwargs)


class Promotion(models.Model):
    """A discount staff define: a percentage or a fixed amount off the order or off some lines,
    or free shipping. It applies on its own (`applies_automatically`) or through its vouchers."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=_choices(PromotionKind))
    scope = models.CharField(max_length=20, choices=_choices(PromotionScope), default=PromotionScope.ORDER.value)
    categories = models.JSONField(default=list, blank=True, help_text="Category slugs (scope: categories).")
    skus = models.JSONField(default=list, blank=True, help_text="SKUs (scope: products).")
    value = models.DecimalField(max_digits=14, decimal_places=3, default=0,
                                help_text="Percent (percentage) or amount in the currency (fixed amount).")
    currency = models.CharField(max_length=3, blank=True, default="",
                                help_text="Needed for a fixed amount or a minimum subtotal; empty: any currency.")
    min_subtotal = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Exclusive; empty: no end.")
    combinable = models.BooleanField(default=False, help_text="May apply together with other promotions.")
    applies_automatically = models.BooleanField(
        default=False, help_text="Applies to every eligible cart without a code. Otherwise only through its vouchers.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["active", "applies_automatically"], name="pricing_promo_auto_idx")]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.kind == PromotionKind.PERCENTAGE and not 0 < (self.value or 0) <= 100:
            errors["value"] = "A percentage is above 0 and at most 100."
        if self.kind == PromotionKind.FIXED_AMOUNT:
            if not (self.value or 0) > 0:
                errors["value"] = "A fixed amount is above 0."
            if not self.currency:
                errors["currency"] = "A fixed amount needs its currency."
        if self.min_subtotal is not None and not self.currency:
            errors["currency"] = "A minimum subtotal needs its currency."
        if self.scope == PromotionScope.CATEGORIES and not self.categories:
            errors["categories"] = "Name at least one category."
        if self.scope == PromotionScope.PRODUCTS and not self.skus:
            errors["skus"] = "Name at least one SKU."
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "Must be after the start."
        if self.applies_automatically and self.pk and self.vouchers.exists():
            errors["applies_automatically"] = "A promotion with vouchers applies through them: remove them first."
        if errors:
            raise ValidationError(errors)


class Voucher(models.Model):
    """A code that unlocks its promotion. `used` counts the uses held now (reserved or used,
    not released): only apps.pricing.vouchers changes it, with one conditional update."""

    code = models.CharField(max_length=64, unique=True, help_text="Stored in upper case; customers type any case.")
    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="vouchers")
    usage_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Uses in total; empty: unlimited.")
    usage_limit_per_customer = models.PositiveIntegerField(null=True, blank=True,
                                                           help_text="Uses per customer; empty: unlimited.")
    used = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        self.code = voucher_code_normalize(self.code)
        super().save(*args, **kwargs)

    def clean(self):
        self.code = voucher_code_normalize(self.code or "")
        if self.promotion_id and self.promotion.applies_automatically:
            raise ValidationError({"promotion": "This promotion applies automatically: a code would add nothing."})


def voucher_code_normalize(code: str) -> str:
    """Codes match without regard to case or surrounding blanks: stored and looked up upper-case."""
    return code.strip().upper()


class VoucherUse(models.Model):
    """One order's use of a voucher: the ledger that makes a use given back exactly once."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="uses")
    order_id = models.UUIDField()
    customer_id = models.BigIntegerField(null=True, blank=True)  # accounts' user id; None: a guest
    email = models.EmailField(blank=True, default="")  # lower case
    status = models.CharField(max_length=10, choices=_choices(VoucherUseStatus),
                              default=VoucherUseStatus.RESERVED.value)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["voucher", "order_id"], name="pricing_voucheruse_order_uniq")]
        indexes = [
            models.Index(fields=["order_id"], name="pricing_use_order_idx"),
            models.Index(fields=["voucher", "customer_id"], name="pricing_use_customer_idx"),
            models.Index(fields=["voucher", "email"], name="pricing_use_email_idx"),
        ]

    def __str__(self):
        return f"{self.voucher_id} by order {self.order_id} ({self.status})"
