from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.catalog.models import Product, StockAdjustment
from apps.catalog.selectors import product_unit_price
from apps.catalog.validation import SKU_PATTERN, WEIGHT_NEGATIVE, WEIGHT_TOO_PRECISE, price_errors, tax_class_errors
from apps.common.money import CURRENCY_PATTERN


class AvailabilitySerializer(serializers.Serializer):
    available = serializers.IntegerField(help_text="Units that can be ordered now.")
    in_stock = serializers.BooleanField()


class ProductSerializer(serializers.ModelSerializer):
    """A list item. Availability is on the detail only, so that list pages stay cached while
    orders reserve stock."""

    category = serializers.CharField(source="category_id", allow_null=True)
    price = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["sku", "name", "category", "price", "currency", "tax_class", "active"]
        extra_kwargs = {"tax_class": {"help_text": "What kind of goods this is, for tax: a tax class code, e.g. "
                                                   "standard or reduced."}}

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=3))  # a decimal string
    def get_price(self, product: Product) -> str:
        return str(product_unit_price(product))


class ProductDetailSerializer(ProductSerializer):
    availability = serializers.SerializerMethodField()

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "description", "attributes", "weight", "version", "created_at",
                  "updated_at", "availability"]
        extra_kwargs = {**ProductSerializer.Meta.extra_kwargs, "weight": {"help_text": "Shipping weight in kilograms."}}

    @extend_schema_field(AvailabilitySerializer)
    def get_availability(self, product: Product) -> dict:
        stock = self.context.get("stock")
        available = max(stock.available, 0) if stock is not None else 0
        return {"available": available, "in_stock": available > 0}


class _ProductFields(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.SlugField(max_length=64, required=False, allow_null=True, default=None)
    price = serializers.DecimalField(max_digits=14, decimal_places=3, coerce_to_string=True, min_value=Decimal(0),
                                     help_text="In the currency's minor unit, e.g. \"19.99\" (USD) or \"1500\" (JPY).")
    currency = serializers.RegexField(CURRENCY_PATTERN, help_text="ISO 4217 code of a supported currency, e.g. EUR.",
                                      error_messages={"invalid": "Unknown or unsupported currency (ISO 4217 code)."})
    weight = serializers.DecimalField(max_digits=10, decimal_places=3, min_value=Decimal(0), required=False,
                                      default=Decimal(0), coerce_to_string=True,
                                      help_text='Shipping weight in kilograms, to the gram, e.g. "0.25".',
                                      error_messages={"min_value": WEIGHT_NEGATIVE,
                                                      "max_decimal_places": WEIGHT_TOO_PRECISE})
    tax_class = serializers.SlugField(max_length=32, required=False,
                                      help_text="The code of an existing tax class (standard, reduced, zero, exempt "
                                                "or one staff added); standard when not given.")
    active = serializers.BooleanField(required=False, default=True)
    attributes = serializers.DictField(required=False, default=dict,
                                       error_messages={"not_a_dict": "Attributes must be an object."})

    def validate_currency(self, value: str) -> str:
        return value.upper()

    def validate_tax_class(self, value: str) -> str:
        errors = tax_class_errors(value)
        if errors:
            raise serializers.ValidationError(errors["tax_class"], code="does_not_exist")
        return value


class ProductCreateSerializer(_ProductFields):
    sku = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                                 help_text="Letters, digits, '.', '_' and '-'; stored in upper case.",
                                 error_messages={"invalid": "Use letters, digits, '.', '_' and '-' (at most 64)."})

    def validate_sku(self, value: str) -> str:
        value = value.strip().upper()
        if not SKU_PATTERN.match(value):
            raise serializers.ValidationError("Use letters, digits, '.', '_' and '-' (at most 64).")
        return value

    def validate(self, attrs):
        errors = price_errors(attrs["price"], attrs["currency"])
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ProductUpdateSerializer(_ProductFields):
    """PATCH: any subset of the fields; price and currency are checked together."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        product: Product = self.context["product"]
        if "price" in attrs or "currency" in attrs:
            errors = price_errors(attrs.get("price", product.price), attrs.get("currency", product.currency))
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class ProductFilterSerializer(serializers.Serializer):
    category = serializers.SlugField(required=False, help_text="Category slug.")
    active = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text="Staff only; the public sees active products.")
    currency = serializers.CharField(required=False, min_length=3, max_length=3)
    min_price = serializers.DecimalField(required=False, max_digits=14, decimal_places=3, min_value=Decimal(0))
    max_price = serializers.DecimalField(required=False, max_digits=14, decimal_places=3, min_value=Decimal(0))
    search = serializers.CharField(required=False, max_length=100, help_text="Part of the name (any case).")

    def validate_currency(self, value: str) -> str:
        return value.upper()

    def validate(self, attrs):
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_price": "Must not exceed max_price."})
        return attrs


class StockAdjustmentCreateSerializer(serializers.Serializer):
    delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000,
                                     help_text="Units put in (positive) or taken out (negative).")
    reason = serializers.CharField(max_length=500, help_text="Why: recorded in the audit trail.")

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("The change must not be zero.")
        return value


class StockAdjustmentSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product_id")
    actor = serializers.CharField(source="actor_name")

    class Meta:
        model = StockAdjustment
        fields = ["id", "sku", "delta", "reason", "actor", "status", "stocked_after", "available_after", "created_at"]
