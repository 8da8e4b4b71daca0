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
    MONEY_FIELDS = ("gross", "shipping", "refunds", "net")

    class Meta:
        model = DailySales
        fields = ["day", "currency", "orders", "gross", "shipping", "refunds", "net"]
        read_only_fields = fields

    def to_representation(self, instance):
        return _money_fields(instance, super().to_representation(instance), self.MONEY_FIELDS)


class OrderReportSerializer(serializers.ModelSerializer):
    MONEY_FIELDS = ("subtotal", "shipping_total", "total", "refunded_amount")

    class Meta:
        model = OrderReport
        fields = ["order_id", "number", "customer_id", "status", "currency", "subtotal", "shipping_total", "total",
                  "refunded_amount",
                  "placed_at", "paid_at", "shipped_at", "cancelled_at", "refunded_at"]
        read_only_fields = fields

    def to_representation(self, instance):
        return _money_fields(instance, super().to_representation(instance), self.MONEY_FIELDS)


# The CSV exports: the same columns as the JSON lists.
DAILY_SALES_COLUMNS = DailySalesSerializer.Meta.fields
ORDER_REPORT_COLUMNS = OrderReportSerializer.Meta.fields
