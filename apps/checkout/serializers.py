from __future__ import annotations

import re

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts import api as accounts
from apps.checkout.models import Cart, ShippingMethod
from apps.checkout.pricing import LineWarningCode
from apps.common.money import CURRENCY_PATTERN, money
from apps.pricing import api as pricing_api

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


class CartAddressInputSerializer(accounts.AddressFieldsSerializer):
    """An address given inline; the accounts module validates it as it does its address book's."""


class CartUpdateSerializer(serializers.Serializer):
    """PATCH: any of these; null clears. An address comes inline or from the caller's address book
    (`..._address_id`), not both."""

    shipping_address = CartAddressInputSerializer(required=False, allow_null=True)
    shipping_address_id = serializers.UUIDField(required=False, help_text="One of your address book's ids.")
    billing_address = CartAddressInputSerializer(required=False, allow_null=True)
    billing_address_id = serializers.UUIDField(required=False, help_text="One of your address book's ids.")
    shipping_method_id = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                                  help_text="One of the cart's `shipping_methods`.")
    tax_id = serializers.CharField(
        required=False, allow_blank=True, max_length=32,
        help_text="A business customer's EU VAT number, e.g. DE136695976 (\"\" clears it). With reverse charge "
                  "on, a valid number of the destination country, other than the shop's, is zero-rated.")

    def validate_tax_id(self, value: str) -> str:
        compact = re.sub(r"[\s.\-]", "", value).upper()
        if compact and pricing_api.tax_id_country(compact) is None:
            raise serializers.ValidationError("Not a valid EU VAT number (country prefix, then its digits).",
                                              code="invalid_tax_id")
        return compact

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        for kind in ("shipping", "billing"):
            if f"{kind}_address" in attrs and f"{kind}_address_id" in attrs:
                raise serializers.ValidationError(
                    {f"{kind}_address_id": f"Send {kind}_address or {kind}_address_id, not both."})
        return attrs


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64, help_text="A voucher code, in any case.")


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
    """A line priced now. With the cart's totals in the context ("totals"), also its share of the
    discounts, its tax and what it costs (`total`: line_total - discount, + tax when prices are
    net); null for a line that is not counted."""

    sku = serializers.CharField()
    name = serializers.CharField(help_text="Empty when the SKU is unknown.")
    quantity = serializers.IntegerField()
    unit_price = MoneyField(allow_null=True, help_text="null: the line cannot be bought (see warnings).")
    line_total = MoneyField(allow_null=True)
    tax_class = serializers.CharField(help_text="The product's tax class (pricing's codes: standard, reduced, ...).")
    tax_rate = serializers.SerializerMethodField(help_text="Percent, e.g. 19 or 7.25.")
    discount = serializers.SerializerMethodField(help_text="The line's share of the discounts.")
    tax = serializers.SerializerMethodField(help_text="The line's tax, rounded to the minor unit.")
    total = serializers.SerializerMethodField(help_text="What the line costs after discounts, with its tax.")
    warnings = LineWarningSerializer(many=True)

    def _figures(self, line):
        totals = self.context.get("totals")
        return None if totals is None else totals.line(line.sku)

    def _money(self, line, field: str) -> str | None:
        figures = self._figures(line)
        return None if figures is None else str(money(getattr(figures, field), self.context["totals"].currency))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_tax_rate(self, line) -> str | None:
        figures = self._figures(line)
        return None if figures is None else str(figures.tax_rate)

    @extend_schema_field(MoneyField(allow_null=True))
    def get_discount(self, line) -> str | None:
        return self._money(line, "discount")

    @extend_schema_field(MoneyField(allow_null=True))
    def get_tax(self, line) -> str | None:
        return self._money(line, "tax")

    @extend_schema_field(MoneyField(allow_null=True))
    def get_total(self, line) -> str | None:
        return self._money(line, "gross")


class CartTaxLineSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The line's SKU, or \"shipping\".")
    tax_class = serializers.CharField()
    rate = serializers.CharField(help_text="Percent, e.g. 19 or 7.25.")
    base = MoneyField(help_text="The net amount taxed.")
    amount = MoneyField(help_text="The tax.")


class CartDiscountAllocationSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The line's SKU, or \"shipping\".")
    amount = MoneyField()

    def to_representation(self, allocation):
        key, amount = allocation
        return {"key": key, "amount": str(amount)}


class CartDiscountLineSerializer(serializers.Serializer):
    promotion_id = serializers.IntegerField()
    promotion_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=[kind.value for kind in pricing_api.PromotionKind], source="kind.value")
    voucher_code = serializers.CharField(allow_null=True, help_text="The code that unlocked it; null: automatic.")
    amount = MoneyField()
    allocations = CartDiscountAllocationSerializer(many=True, help_text="Its shares of the lines and shipping.")


class CodeProblemSerializer(serializers.Serializer):
    voucher_code = serializers.CharField()
    code = serializers.CharField(source="problem", help_text="The voucher error's stable code, e.g. voucher_expired.")
    detail = serializers.CharField()


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
    voucher_code = serializers.CharField(required=False, help_text="voucher_...: the code that gave nothing.")


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
    lines = serializers.SerializerMethodField()
    shipping_address = CartAddressSerializer(source="cart.shipping_address", allow_null=True)
    billing_address = CartAddressSerializer(source="cart.billing_address", allow_null=True)
    shipping_method = ShippingQuoteSerializer(allow_null=True, help_text="The chosen method, if it serves the cart.")
    shipping_methods = ShippingQuoteSerializer(
        many=True, help_text="The methods that ship this cart to its shipping address, with their prices.")
    voucher_codes = serializers.ListField(child=serializers.CharField(), source="cart.voucher_codes",
                                          help_text="The codes applied (POST codes/), whether they give a discount "
                                                    "now or not (see code_problems).")
    code_problems = CodeProblemSerializer(
        many=True, source="totals.priced.code_problems",
        help_text="Codes the cart holds that give nothing now (expired, used up, no longer matching the cart, "
                  "...), each with the voucher error's code: they are not counted, and completing is 422 until "
                  "they are removed.")
    discount_lines = CartDiscountLineSerializer(many=True, source="totals.priced.discount_lines",
                                            help_text="Each promotion's discount, shared out over what it applies to.")
    tax_lines = CartTaxLineSerializer(many=True, source="totals.priced.tax_lines",
                                  help_text="Tax per line and on shipping, each rounded to the minor unit.")
    tax_id = serializers.CharField(source="cart.tax_id", help_text="The business customer's VAT number, if given.")
    zero_rated = serializers.BooleanField(source="totals.priced.zero_rated",
                                          help_text="Reverse charge applies: taxed at 0 %.")
    prices_include_tax = serializers.BooleanField(
        source="totals.prices_include_tax",
        help_text="true: prices include tax, total = subtotal + shipping - discount (tax is within them); "
                  "false: total = subtotal + shipping - discount + tax.")
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

    @extend_schema_field(CartLineSerializer(many=True))
    def get_lines(self, priced):
        return CartLineSerializer(priced.lines, many=True, context={"totals": priced.totals}).data


class CartCreatedSerializer(CartSerializer):
    token = serializers.CharField(
        required=False, help_text="A guest cart's secret: send it as X-Cart-Token on every call to this cart. "
                                  "Shown once; signed-in customers' carts have none.")
