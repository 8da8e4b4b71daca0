"""Staff manage shipping zones, methods and their rate bands here (Django's model permissions:
checkout.add_shippingmethod, ...), and look at carts, read-only, with an abandoned-carts filter."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import Count
from django.utils import timezone

from apps.checkout import selectors
from apps.checkout.addresses import country_codes
from apps.checkout.models import Cart, CartLine, ShippingMethod, ShippingRate, ShippingZone
from apps.common.admin import ReadOnlyInline, ReadOnlyModelAdmin
from apps.common.money import CURRENCIES, InvalidMoney, money


class ShippingZoneForm(forms.ModelForm):
    countries = forms.CharField(help_text="ISO 3166-1 alpha-2 codes, separated by commas or spaces: DE, FR, AT.")

    class Meta:
        model = ShippingZone
        fields = ["name", "countries"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["countries"] = ", ".join(self.instance.countries or [])

    def clean_countries(self) -> list[str]:
        codes = [code.strip().upper() for code in self.cleaned_data["countries"].replace(",", " ").split()]
        unknown = sorted(set(codes) - set(country_codes()))
        if unknown:
            raise forms.ValidationError(f"Not ISO 3166-1 alpha-2 country codes: {', '.join(unknown)}.")
        if not codes:
            raise forms.ValidationError("Name at least one country.")
        return sorted(set(codes))


def _amount_error(form: forms.ModelForm, field: str, currency: str | None) -> None:
    value = form.cleaned_data.get(field)
    if value is None or currency not in CURRENCIES:
        return
    try:
        if money(value, currency) < 0:
            form.add_error(field, "Must not be negative.")
    except InvalidMoney as exc:
        form.add_error(field, str(exc))


class ShippingMethodForm(forms.ModelForm):
    class Meta:
        model = ShippingMethod
        fields = ["zone", "name", "currency", "kind", "price", "free_above", "active"]

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if currency not in CURRENCIES:
            raise forms.ValidationError("Unknown or unsupported currency (ISO 4217 code).")
        return currency

    def clean(self):
        cleaned = super().clean()
        for field in ("price", "free_above"):
            _amount_error(self, field, cleaned.get("currency"))
        return cleaned


class ShippingRateForm(forms.ModelForm):
    class Meta:
        model = ShippingRate
        fields = ["min_value", "max_value", "price"]

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_value"), cleaned.get("max_value")
        if low is not None and low < 0:
            self.add_error("min_value", "Must not be negative.")
        if low is not None and high is not None and high <= low:
            self.add_error("max_value", "Must be above the band's minimum.")
        return cleaned


class ShippingRateFormSet(forms.BaseInlineFormSet):
    """Band prices in the method's currency; a method's bands must not overlap: one value, one price."""

    def clean(self):
        super().clean()
        for form in self.forms:
            if form.cleaned_data and not form.cleaned_data.get("DELETE"):
                _amount_error(form, "price", self.instance.currency)  # the method, saved or being added
        kept = [form.cleaned_data for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        bands = sorted((data["min_value"], data.get("max_value")) for data in kept if data.get("min_value") is not None)
        for (low, high), (next_low, _) in itertools.pairwise(bands):
            if high is None or high > next_low:
                raise forms.ValidationError(f"The bands from {low} and from {next_low} overlap.")


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    form = ShippingRateForm
    formset = ShippingRateFormSet
    extra = 1
    verbose_name_plural = "rate bands (subtotal or weight methods)"


class ShippingMethodInline(admin.TabularInline):
    model = ShippingMethod
    fields = ["name", "currency", "kind", "price", "free_above", "active"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # on the method's own page, with its rate bands


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    form = ShippingZoneForm
    list_display = ["name", "country_list", "methods"]
    search_fields = ["name"]
    inlines = [ShippingMethodInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # a new zone has no methods yet

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(method_count=Count("methods"))

    @admin.display(description="countries")
    def country_list(self, zone):
        return ", ".join(zone.countries or [])

    @admin.display(description="methods", ordering="method_count")
    def methods(self, zone):
        return zone.method_count


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    form = ShippingMethodForm
    list_display = ["name", "zone", "currency", "kind", "price", "free_above", "active"]
    list_filter = ["active", "kind", "currency", "zone"]
    list_select_related = ["zone"]
    search_fields = ["name", "zone__name"]
    inlines = [ShippingRateInline]


class AbandonedFilter(admin.SimpleListFilter):
    title = "abandoned"
    parameter_name = "abandoned"

    def lookups(self, request, model_admin):
        hours = settings.CHECKOUT_CART_ABANDONED_AFTER_HOURS
        return [("yes", f"Abandoned (open, with lines, untouched {hours} h)"), ("no", "Active")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        idle_since = timezone.now() - timedelta(hours=settings.CHECKOUT_CART_ABANDONED_AFTER_HOURS)
        abandoned = queryset.filter(status=Cart.Status.OPEN, updated_at__lt=idle_since, lines__isnull=False).distinct()
        if self.value() == "yes":
            return abandoned
        return queryset.exclude(pk__in=abandoned.values("pk"))


class CartLineInline(ReadOnlyInline):
    model = CartLine
    fields = readonly_fields = ["sku", "quantity", "unit_price", "updated_at"]


@admin.register(Cart)
class CartAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "customer", "currency", "status", "line_count", "version", "updated_at", "expires_at"]
    list_filter = [AbandonedFilter, "status", "currency"]
    list_select_related = ["customer"]
    search_fields = ["=id", "customer__username", "customer__email"]
    readonly_fields = ["id", "customer", "currency", "status", "closed_reason", "merged_into", "shipping_address",
                       "billing_address", "shipping_method", "priced_totals", "version", "expires_at", "created_at",
                       "updated_at"]
    exclude = ["token_hash"]
    inlines = [CartLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("lines"))

    @admin.display(description="lines", ordering="line_count")
    def line_count(self, cart):
        return cart.line_count

    @admin.display(description="priced now")
    def priced_totals(self, cart):
        totals = selectors.cart_priced(cart=cart).totals
        shipping = "not chosen" if totals.shipping is None else totals.shipping
        return (f"subtotal {totals.subtotal}, shipping {shipping}, total {totals.total} {totals.currency} "
                f"({totals.weight.quantize(Decimal('0.001'))} kg)")
