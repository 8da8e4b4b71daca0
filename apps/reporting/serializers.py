from django.core.validators import RegexValidator
from rest_framework import serializers

from apps.common.money import CURRENCY_PATTERN, money
from apps.reporting.models import DailySales, OrderReport


class _DateRangeQuerySerializer(serializers.Serializer):
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, both inclusive, both optional."""

    from_ = serializers.DateField(required=False, help_text="First day (UTC, inclusive), YYYY-MM-DD.")
    to = serializers.DateField(required=False, help_text="Last day (UTC, inclusive), YYYY-MM-DD.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # "from" is a Python keyword
        return fields

    def validate(self, attrs):
        if "from" in attrs and "to" in attrs and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": "Must not be before from."}, code="invalid_range")
        return attrs

    def filters(self) -> dict:
        data = self.validated_data
        return {"date_from": data.get("from"), "date_to": data.get("to")}


class DailySalesQuerySerializer(_DateRangeQuerySerializer):
    currency = serializers.CharField(
        required=False, help_text="ISO 4217 code of a supported currency, any case, e.g. USD.",
        validators=[RegexValidator(CURRENCY_PATTERN, "Unknown or unsupported currency.", code="invalid_currency")])

    def validate_currency(self, value: str) -> str:
        return value.upper()  # never rely on the database's case rules

    def filters(self) -> dict:
        return {**super().filters(), "currency": self.validated_data.get("currency")}


class OrderReportQuerySerializer(_DateRangeQuerySerializer):
    status = serializers.ChoiceField(choices=OrderReport.Status.choices, required=False)

    def filters(self) -> dict:
        return {**super().filters(), "status": self.validated_data.get("status")}


def _money_fields(instance, data: dict, fields) -> dict:
    # Stored with 3 decimals for every currency; shown with the currency's own minor unit.
    for field in fields:
        value = getattr(instance, field)
        data[field] = None if value is None else str(money(value, instance.currency))
    return data


class DailySalesSerializer(serializers.ModelSerializer):
    MONEY_FIELDS = ("gross", "shipping", "discount", "tax", "refunds", "net")

    class Meta:
        model = DailySales
        fields = ["day", "currency", "orders", "gross", "shipping", "discount", "tax", "refunds", "net"]
        read_only_fields = fields

    def to_representation(self, instance):
        return _money_fields(instance, super().to_representation(instance), self.MONEY_FIELDS)


class OrderReportSerializer(serializers.ModelSerializer):
    MONEY_FIELDS = ("subtotal", "shipping_total", "discount_total", "tax_total", "total", "refunded_amount")

    class Meta:
        model = OrderReport
        fields = ["order_id", "number", "customer_id", "status", "currency", "subtotal", "shipping_total",
                  "discount_total", "tax_total", "total", "refunded_amount",
                  "placed_at", "paid_at", "shipped_at", "cancelled_at", "refunded_at"]
        read_only_fields = fields

    def to_representation(self, instance):
        return _money_fields(instance, super().to_representation(instance), self.MONEY_FIELDS)


class PromotionUsageQuerySerializer(DailySalesQuerySerializer):
    """?from, ?to (the days orders were placed, inclusive) and ?currency."""


class PromotionUsageSerializer(serializers.Serializer):
    """One promotion in one currency (apps.reporting.selectors.promotion_usage_list row)."""

    promotion_id = serializers.IntegerField()
    promotion_name = serializers.CharField()
    currency = serializers.CharField()
    orders = serializers.IntegerField(help_text="Orders it discounted (cancelled ones not counted).")
    by_code = serializers.IntegerField(help_text="Of which through a voucher code.")
    discount = serializers.CharField(help_text="What it gave, in the currency.")

    def to_representation(self, row):
        data = super().to_representation(row)
        data["discount"] = str(money(row["discount"], row["currency"]))
        return data


class VoucherUsageQuerySerializer(serializers.Serializer):
    promotion_id = serializers.IntegerField(required=False, min_value=1)


class VoucherUsageSerializer(serializers.Serializer):
    """One voucher's limits and uses (apps.pricing.api.VoucherUsage)."""

    code = serializers.CharField()
    promotion_id = serializers.IntegerField()
    promotion_name = serializers.CharField()
    usage_limit = serializers.IntegerField(allow_null=True, help_text="Uses in total; null: unlimited.")
    usage_limit_per_customer = serializers.IntegerField(allow_null=True, help_text="null: unlimited.")
    used = serializers.IntegerField(help_text="Held now: reserved by orders being placed, and confirmed.")
    reserved = serializers.IntegerField()
    confirmed = serializers.IntegerField(help_text="By orders placed (and not cancelled before shipment).")
    released = serializers.IntegerField(help_text="Given back: the order failed or was cancelled before shipment.")
    remaining = serializers.SerializerMethodField(help_text="Uses left; null: unlimited.")

    def get_remaining(self, usage) -> int | None:
        return None if usage.usage_limit is None else max(usage.usage_limit - usage.used, 0)


# The CSV exports: the same columns as the JSON lists.
DAILY_SALES_COLUMNS = DailySalesSerializer.Meta.fields
ORDER_REPORT_COLUMNS = OrderReportSerializer.Meta.fields
