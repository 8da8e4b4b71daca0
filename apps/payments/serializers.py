from decimal import Decimal

from rest_framework import serializers

from apps.common.money import InvalidMoney, money
from apps.payments.models import Payment, PaymentTransaction, Refund

_MONEY = {"max_digits": 18, "decimal_places": 3, "read_only": True}


def _money_out(data: dict, instance, fields: tuple[str, ...], currency: str) -> dict:
    # Stored with three decimals; shown with the currency's own (10.00 EUR, 1000 JPY).
    for name in fields:
        value = getattr(instance, name)
        data[name] = None if value is None else str(money(value, currency))
    return data


class PaymentTransactionSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**_MONEY)

    class Meta:
        model = PaymentTransaction
        fields = ["id", "operation", "amount", "outcome", "idempotency_key", "provider_reference", "decline_code",
                  "message", "status_before", "status_after", "resolved_by", "raw_response", "created_at",
                  "resolved_at"]
        read_only_fields = fields

    def to_representation(self, instance):
        currency = self.context.get("currency") or instance.payment.currency
        return _money_out(super().to_representation(instance), instance, ("amount",), currency)


class PaymentRefundSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**_MONEY)

    class Meta:
        model = Refund
        fields = ["id", "amount", "status", "provider_reference", "transaction", "created_at", "resolved_at"]
        read_only_fields = fields

    def to_representation(self, instance):
        currency = self.context.get("currency") or instance.payment.currency
        return _money_out(super().to_representation(instance), instance, ("amount",), currency)


_PAYMENT_AMOUNTS = ("amount", "amount_authorized", "amount_captured", "amount_refunded")


class PaymentSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**_MONEY)
    amount_authorized = serializers.DecimalField(**_MONEY)
    amount_captured = serializers.DecimalField(**_MONEY)
    amount_refunded = serializers.DecimalField(**_MONEY)

    class Meta:
        model = Payment
        fields = ["id", "order_id", "status", "method", "provider", "provider_reference", "currency", "amount",
                  "amount_authorized", "amount_captured", "amount_refunded", "cancel_requested", "version",
                  "created_at", "updated_at"]
        read_only_fields = fields

    def to_representation(self, instance):
        return _money_out(super().to_representation(instance), instance, _PAYMENT_AMOUNTS, instance.currency)


class PaymentDetailSerializer(PaymentSerializer):
    transactions = PaymentTransactionSerializer(many=True, read_only=True)
    refunds = PaymentRefundSerializer(many=True, read_only=True)

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "transactions", "refunds"]
        read_only_fields = fields


class PaymentFilterSerializer(serializers.Serializer):
    order_id = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=Payment.Status.choices, required=False)


class AmountSerializer(serializers.Serializer):
    """An optional amount in the payment's currency, at most `limit` (both from the context).
    Omitted: all of it (what remains capturable or refundable)."""

    amount = serializers.DecimalField(max_digits=18, decimal_places=3, required=False, allow_null=True,
                                      min_value=Decimal("0.001"),
                                      help_text="In the payment's currency; omit for all that remains.")

    def validate_amount(self, value):
        if value is None:
            return None
        currency = self.context["currency"]
        try:
            value = money(value, currency)
        except InvalidMoney as exc:
            raise serializers.ValidationError(str(exc), code="invalid_amount") from exc
        limit = self.context["limit"]
        if value > limit:
            raise serializers.ValidationError(f"At most {money(limit, currency)} {currency} remains.",
                                              code="amount_too_large")
        return value
