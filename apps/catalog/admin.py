"""Staff manage the catalog here. Every write goes through the services, exactly as the API does:
versions move, prices are validated for their currency, and the cache is invalidated. Stock
counts are never edited directly: the "Adjust stock" action records who changed them and why.
Prices change only with catalog.change_price, stock only with catalog.adjust_stock."""

import secrets
import uuid

from django import forms
from django.contrib import admin, messages

from apps.catalog.models import Category, Product, Reservation, ReservationEvent, Stock, StockAdjustment
from apps.catalog.services.adjustments import stock_adjust
from apps.catalog.services.products import (
    EDITABLE_FIELDS,
    category_delete,
    category_save,
    product_create,
    product_deactivate,
    product_update,
)
from apps.catalog.validation import SKU_PATTERN, price_errors, weight_errors
from apps.common.admin import ActionOutcome, ReadOnlyModelAdmin, action_each, action_form
from apps.pricing.api import tax_class_codes

_ADMIN_ADJUSTMENTS = uuid.UUID("7d7b3f0e-2a51-4c59-8d43-61f4f1a9c0b2")  # namespace of admin form tokens


def _stock_count(product: Product, counter: str) -> int:
    """One of the product's stock counters; 0 while it has no stock row."""
    try:
        return getattr(product.stock, counter)
    except Stock.DoesNotExist:
        return 0


class ProductAdminForm(forms.ModelForm):
    tax_class = forms.ChoiceField(help_text=Product._meta.get_field("tax_class").help_text)

    class Meta:
        model = Product
        fields = ["sku", "name", "description", "category", "price", "currency", "weight", "tax_class", "active",
                  "attributes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The classes pricing has now; a product keeps the class it has even if pricing dropped it.
        codes = tax_class_codes() | {self.instance.tax_class}
        self.fields["tax_class"].choices = [(code, code) for code in sorted(codes)]
        self.fields["tax_class"].initial = self.instance.tax_class

    def clean_sku(self):
        sku = self.cleaned_data["sku"].strip().upper()
        if not SKU_PATTERN.match(sku):
            raise forms.ValidationError("Use letters, digits, '.', '_' and '-' (at most 64).")
        return sku

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        currency = cleaned.get("currency", self.instance.currency)
        for field, message in price_errors(cleaned.get("price"), currency).items():
            self.add_error(field, message)
        if cleaned.get("weight") is not None:
            for field, message in weight_errors(cleaned["weight"]).items():
                self.add_error(field, message)
        return cleaned


class ProductChangeListForm(forms.ModelForm):
    """The list page edits price and active; the price is checked against the row's currency."""

    price_locked = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.price_locked:
            self.fields["price"].disabled = True  # a posted price is ignored

    def clean(self):
        cleaned = super().clean()
        for field, message in price_errors(cleaned.get("price"), self.instance.currency).items():
            self.add_error(field if field in self.fields else None, message)
        return cleaned


class PriceLockedChangeListForm(ProductChangeListForm):
    """For staff without catalog.change_price."""

    price_locked = True


class StockAdjustForm(forms.Form):
    # One token per form shown: submitting the same form twice adjusts once.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    delta = forms.IntegerField(min_value=-1_000_000, max_value=1_000_000,
                               help_text="Units put in (positive) or taken out (negative), per product.")
    reason = forms.CharField(max_length=500)

    def clean_delta(self):
        if self.cleaned_data["delta"] == 0:
            raise forms.ValidationError("The change must not be zero.")
        return self.cleaned_data["delta"]


class StockInline(admin.TabularInline):
    model = Stock
    can_delete = False
    fields = readonly_fields = ["stocked", "on_hand", "available", "held", "committed", "version", "updated_at"]

    def has_add_permission(self, request, obj=None):
        return False


class StockAdjustmentInline(admin.TabularInline):
    model = StockAdjustment
    fk_name = "product"
    extra = 0
    can_delete = False
    ordering = ["-created_at"]
    verbose_name_plural = "stock adjustments (audit)"
    fields = readonly_fields = ["created_at", "delta", "reason", "actor_name", "status", "stocked_after",
                                "available_after"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ["sku", "name", "category", "price", "currency", "tax_class", "active", "available", "held"]
    list_editable = ["price", "active"]
    list_filter = ["active", "category", "currency", "tax_class"]
    search_fields = ["sku", "name"]
    list_select_related = ["stock"]
    readonly_fields = ["version", "created_at", "updated_at"]
    inlines = [StockInline, StockAdjustmentInline]
    actions = ["adjust_stock", "deactivate_products"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        price = [] if self._may_change_price(request) else ["price", "currency"]
        return ["sku", *price, *self.readonly_fields]

    def has_delete_permission(self, request, obj=None):
        return False  # orders refer to SKUs: deactivate instead

    def has_adjust_stock_permission(self, request):
        return request.user.has_perm("catalog.adjust_stock")

    def _may_change_price(self, request) -> bool:
        return request.user.has_perm("catalog.change_price")

    def get_changelist_form(self, request, **kwargs):
        form = ProductChangeListForm if self._may_change_price(request) else PriceLockedChangeListForm
        kwargs.setdefault("form", form)
        return super().get_changelist_form(request, **kwargs)

    @admin.display(description="available")
    def available(self, product):
        return _stock_count(product, "available")

    @admin.display(description="held")
    def held(self, product):
        return _stock_count(product, "held")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_FIELDS}
        if "category" in data:
            data["category"] = data["category"].pk if data["category"] else None
        if change:
            if data:
                updated = product_update(sku=obj.pk, changes=data)
                obj.version, obj.updated_at = updated.version, updated.updated_at
        else:
            created = product_create(sku=obj.sku, **{
                "name": obj.name, "price": obj.price, "currency": obj.currency, "description": obj.description,
                "category": obj.category_id, "weight": obj.weight, "tax_class": obj.tax_class, "active": obj.active,
                "attributes": obj.attributes, **data})
            obj.version, obj.created_at, obj.updated_at = created.version, created.created_at, created.updated_at
            obj._state.adding, obj._state.db = False, "catalog"

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            formset.save(commit=False)  # stock and its audit are read-only here: nothing is written

    @admin.action(description="Adjust stock (audited)", permissions=["adjust_stock"])
    def adjust_stock(self, request, queryset):
        if "apply" in request.POST:
            form = StockAdjustForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data

                def adjust(product) -> ActionOutcome:
                    adjustment = stock_adjust(
                        sku=product.sku, delta=data["delta"], reason=data["reason"], actor_id=str(request.user.pk),
                        actor_name=request.user.get_username(),
                        adjustment_id=uuid.uuid5(_ADMIN_ADJUSTMENTS, f"{data['token']}:{product.sku}"))
                    if adjustment.status == StockAdjustment.Status.APPLIED:
                        return ActionOutcome(f"stock {adjustment.delta:+d}.")
                    # this form was submitted before
                    return ActionOutcome(f"not adjusted ({adjustment.status}).", messages.ERROR)

                action_each(self, request, queryset, name=lambda product: product.sku, verb="adjusted", act=adjust)
                return None
        else:
            form = StockAdjustForm(initial={"token": secrets.token_hex(16)})
        return action_form(self, request, "admin/catalog/stock_adjust.html", objects=queryset, form=form,
                           title="Adjust stock")

    @admin.action(description="Deactivate (take off sale)", permissions=["change"])
    def deactivate_products(self, request, queryset):
        for product in queryset:
            product_deactivate(sku=product.sku)
        self.message_user(request, f"{queryset.count()} products deactivated.", messages.SUCCESS)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj else []

    def save_model(self, request, obj, form, change):
        category_save(slug=obj.slug, name=obj.name)

    def delete_model(self, request, obj):
        category_delete(slug=obj.slug)

    def delete_queryset(self, request, queryset):
        for category in queryset:
            category_delete(slug=category.slug)


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyModelAdmin):
    list_display = ["order_id", "sku", "quantity", "status", "expires_at", "settling_since", "updated_at"]
    list_filter = ["status"]
    search_fields = ["=sku"]


@admin.register(ReservationEvent)
class ReservationEventAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "order_id", "sku", "quantity", "from_status", "to_status", "note"]
    list_filter = ["to_status"]
    search_fields = ["=sku"]


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "sku", "delta", "reason", "actor_name", "status", "stocked_after"]
    list_filter = ["status"]
    search_fields = ["=product__pk", "reason", "actor_name"]

    @admin.display(description="SKU", ordering="product_id")
    def sku(self, adjustment):
        return adjustment.product_id
