from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.checkout.addresses import country_codes
from apps.checkout.models import Cart, ShippingMethod
from apps.checkout.pricing import LineWarningCode
from apps.common.money import CURRENCY_PATTERN

SKU_REGEX = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


@extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=3))  # a decimal string
class MoneyField(serializers.Field):
    """An amount already at its currency's minor unit, as a decimal string ("19.99")."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return str(value)


# --- input ------------------------------------------------------------------------------------

class CartCreateSerializer(serializers.Serializer):
    currency = serializers.RegexField(CURRENCY_PATTERN, help_text="ISO 4217 code of a supported currency, e.g. EUR.",
                                      error_messages={"invalid": "Unknown or unsupported currency (ISO 4217 code)."})

    def validate_currency(self, value: str) -> str:
        return value.upper()


class LineQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=settings.CHECKOUT_LINE_MAX_QUANTITY)


class LineAddSerializer(LineQuantitySerializer):
    sku = serializers.RegexField(SKU_REGEX, help_text="The product's SKU (any case).",
                                 error_messages={"invalid": "Use letters, digits, '.', '_' and '-' (at most 64)."})

    def validate_sku(self, value: str) -> str:
        return value.upper()


class CartAddressInputSerializer(serializers.Serializer):
    """An address given inline; the accounts module validates it as it does its address book's."""

    name = serializers.CharField(max_length=255)
    company = serializers.CharField(max_length=255, required=False, allow_blank=True)
    line1 = serializers.CharField(max_length=255, help_text="Street and number.")
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=255, required=False, allow_blank=True)
    region = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                   help_text="State, province or county, where the country has them.")
    postal_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    country = serializers.ChoiceField(choices=country_codes(), help_text="ISO 3166-1 alpha-2, e.g. DE.")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class CartUpdateSerializer(serializers.Serializer):
    """PATCH: any of these; null clears. An address comes inline or from the caller's address book
    (`..._address_id`), not both."""

    shipping_address = CartAddressInputSerializer(required=False, allow_null=True)
    shipping_address_id = serializers.UUIDField(required=False, help_text="One of your address book's ids.")
    billing_address = CartAddressInputSerializer(required=False, allow_null=True)
    billing_address_id = serializers.UUIDField(required=False, help_text="One of your address book's ids.")
    shipping_method_id = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                                  help_text="One of the cart's `shipping_methods`.")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        for kind in ("shipping", "billing"):
            if f"{kind}_address" in attrs and f"{kind}_address_id" in attrs:
                raise serializers.ValidationError(
                    {f"{kind}_address_id": f"Send {kind}_address or {kind}_address_id, not both."})
        return attrs


# --- output -----------------------------------------------------------------------------------

class LineWarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[code.value for code in LineWarningCode])
    available = serializers.IntegerField(required=False, help_text="insufficient_stock: units available now.")
    old_price = MoneyField(required=False, help_text="price_changed: the price when the line was written.")
    new_price = MoneyField(required=False, help_text="price_changed: the price now.")

    def to_representation(self, warning):
        body = {"code": warning.code.value}
        if warning.available is not None:
            body["available"] = warning.available
        if warning.old_price is not None:
            body["old_price"], body["new_price"] = str(warning.old_price), str(warning.new_price)
        return body


class CartLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField(help_text="Empty when the SKU is unknown.")
    quantity = serializers.IntegerField()
    unit_price = MoneyField(allow_null=True, help_text="null: the line cannot be bought (see warnings).")
    line_total = MoneyField(allow_null=True)
    warnings = LineWarningSerializer(many=True)


class ShippingQuoteSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="method_id")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ShippingMethod.Kind.choices, source="kind.value")
    price = MoneyField()


class CartWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class CartAddressSerializer(serializers.Serializer):
    name = serializers.CharField()
    company = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField()


class CompletionFailureSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The problem code the completion answered, e.g. out_of_stock.")
    detail = serializers.CharField()
    at = serializers.DateTimeField()
    skus = serializers.ListField(child=serializers.CharField(), required=False, help_text="out_of_stock: the SKUs.")
    order_id = serializers.UUIDField(required=False, help_text="The order the attempt left (payment_failed, ...).")


class CartSerializer(serializers.Serializer):
    """A cart priced now (apps.checkout.selectors.PricedCart)."""

    id = serializers.UUIDField(source="cart.id")
    status = serializers.ChoiceField(choices=Cart.Status.choices, source="cart.status",
                                     help_text="completing: its order is being placed, the cart cannot change.")
    closed_reason = serializers.CharField(source="cart.closed_reason",
                                          help_text="merged, completed (see order_id), or empty while open.")
    order_id = serializers.UUIDField(source="cart.order_id", allow_null=True,
                                     help_text="The order a completed cart became.")
    last_failure = CompletionFailureSerializer(
        source="cart.last_failure", allow_null=True,
        help_text="Why the last completion did not place an order (the cart stayed open); null otherwise.")
    merged_into = serializers.UUIDField(source="cart.merged_into", allow_null=True,
                                        help_text="The cart a merged guest cart went into.")
    currency = serializers.CharField(source="cart.currency")
    version = serializers.IntegerField(source="cart.version", help_text="The ETag; send it as If-Match.")
    lines = CartLineSerializer(many=True)
    shipping_address = CartAddressSerializer(source="cart.shipping_address", allow_null=True)
    billing_address = CartAddressSerializer(source="cart.billing_address", allow_null=True)
    shipping_method = ShippingQuoteSerializer(allow_null=True, help_text="The chosen method, if it serves the cart.")
    shipping_methods = ShippingQuoteSerializer(
        many=True, help_text="The methods that ship this cart to its shipping address, with their prices.")
    subtotal = MoneyField(source="totals.subtotal")
    shipping = MoneyField(source="totals.shipping", allow_null=True)
    discount = MoneyField(source="totals.discount")
    tax = MoneyField(source="totals.tax")
    total = MoneyField(source="totals.total")
    weight = serializers.DecimalField(source="totals.weight", max_digits=12, decimal_places=3,
                                      help_text="Kilograms of the lines that count (weight-banded shipping uses it).")
    warnings = CartWarningSerializer(many=True)
    expires_at = serializers.DateTimeField(source="cart.expires_at")
    created_at = serializers.DateTimeField(source="cart.created_at")
    updated_at = serializers.DateTimeField(source="cart.updated_at")


class CartCreatedSerializer(CartSerializer):
    token = serializers.CharField(
        required=False, help_text="A guest cart's secret: send it as X-Cart-Token on every call to this cart. "
                                  "Shown once; signed-in customers' carts have none.")
