"""Staff keep tax classes and rates, promotions and their vouchers here, each behind Django's
model permissions (pricing.add_taxrate, pricing.change_promotion, ...), and see how each voucher
is used. The use counter and the ledger of uses are written by apps.pricing.vouchers only."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q

from apps.common.admin import ReadOnlyInline, ReadOnlyModelAdmin
from apps.common.money import CURRENCIES, InvalidMoney, money
from apps.pricing.models import Promotion, TaxClass, TaxRate, Voucher, VoucherUse, voucher_code_normalize
from apps.pricing.types import PromotionKind, VoucherUseStatus

SEEDED_CLASSES = ("standard", "reduced", "zero", "exempt")
_HELD = (VoucherUseStatus.RESERVED.value, VoucherUseStatus.USED.value)


def _words(text: str) -> list[str]:
    return sorted({word.strip() for word in text.replace(",", " ").split() if word.strip()})


@admin.register(TaxClass)
class TaxClassAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "exempt"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []  # products name their class by code

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.code in SEEDED_CLASSES:
            return False
        return super().has_delete_permission(request, obj)


class TaxRateForm(forms.ModelForm):
    class Meta:
        model = TaxRate
        fields = ["country", "region", "tax_class", "rate"]

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean_region(self) -> str:
        return self.cleaned_data["region"].strip().upper()


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    form = TaxRateForm
    list_display = ["country", "region", "tax_class", "rate", "updated_at"]
    list_filter = ["tax_class", "country"]
    search_fields = ["=country", "=region"]


class PromotionForm(forms.ModelForm):
    categories = forms.CharField(required=False, help_text="Category slugs, separated by commas or spaces.")
    skus = forms.CharField(required=False, help_text="SKUs, separated by commas or spaces.")

    class Meta:
        model = Promotion
        fields = ["name", "kind", "scope", "categories", "skus", "value", "currency", "min_subtotal", "starts_at",
                  "ends_at", "combinable", "applies_automatically", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["categories"] = ", ".join(self.instance.categories or [])
            self.initial["skus"] = ", ".join(self.instance.skus or [])

    def clean_categories(self) -> list[str]:
        return [slug.lower() for slug in _words(self.cleaned_data["categories"])]

    def clean_skus(self) -> list[str]:
        return [sku.upper() for sku in _words(self.cleaned_data["skus"])]

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if currency and currency not in CURRENCIES:
            raise forms.ValidationError("Unknown or unsupported currency (ISO 4217 code).")
        return currency

    def clean(self):
        cleaned = super().clean()
        currency = cleaned.get("currency")
        fields = ["min_subtotal"] + (["value"] if cleaned.get("kind") == PromotionKind.FIXED_AMOUNT else [])
        for field in fields:
            value = cleaned.get(field)
            if value is None or not currency:
                continue
            try:
                money(value, currency)
            except InvalidMoney as exc:
                self.add_error(field, str(exc))
        return cleaned


class VoucherInline(admin.TabularInline):
    model = Voucher
    fields = ["code", "usage_limit", "usage_limit_per_customer", "used"]
    readonly_fields = ["used"]
    extra = 1
    show_change_link = True


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    form = PromotionForm
    list_display = ["name", "kind", "scope", "value", "currency", "starts_at", "ends_at", "combinable",
                    "applies_automatically", "active", "uses"]
    list_filter = ["active", "kind", "scope", "applies_automatically", "combinable"]
    search_fields = ["name", "vouchers__code"]
    inlines = [VoucherInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            held_uses=Count("vouchers__uses", filter=Q(vouchers__uses__status__in=_HELD)))

    @admin.display(description="uses (held)", ordering="held_uses")
    def uses(self, obj):
        return obj.held_uses


class VoucherForm(forms.ModelForm):
    class Meta:
        model = Voucher
        fields = ["code", "promotion", "usage_limit", "usage_limit_per_customer"]

    def clean_code(self) -> str:
        return voucher_code_normalize(self.cleaned_data["code"])


class VoucherUseInline(ReadOnlyInline):
    model = VoucherUse
    fields = readonly_fields = ["order_id", "customer_id", "email", "status", "created_at", "updated_at"]


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    form = VoucherForm
    list_display = ["code", "promotion", "used", "usage_limit", "usage_limit_per_customer", "uses_released"]
    list_select_related = ["promotion"]
    search_fields = ["code", "promotion__name"]
    readonly_fields = ["used"]
    inlines = [VoucherUseInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            released=Count("uses", filter=Q(uses__status=VoucherUseStatus.RELEASED.value)))

    @admin.display(description="released", ordering="released")
    def uses_released(self, obj):
        return obj.released

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.uses.exists():
            return False  # its uses are the record of what orders got
        return super().has_delete_permission(request, obj)


@admin.register(VoucherUse)
class VoucherUseAdmin(ReadOnlyModelAdmin):
    list_display = ["voucher", "order_id", "customer_id", "email", "status", "created_at", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["voucher"]
    search_fields = ["voucher__code", "=order_id", "email"]

