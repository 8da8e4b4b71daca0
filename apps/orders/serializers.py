from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.common.money import money
from apps.orders.breakdown import percent
from apps.orders.models import Order, OrderEvent, OrderLine


class OrderFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)


class LineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class OrderCreateSerializer(serializers.Serializer):
    lines = LineInputSerializer(many=True, allow_empty=False, max_length=100)
    payment_token = serializers.CharField(
        max_length=255, write_only=True,
        help_text="The payment method's token from the processor; the sandbox's test tokens "
                  "(tok_approved, tok_declined, ...) are listed in the operation's description.")
    email = serializers.EmailField(required=False)
    phone = serializers.RegexField(r"^\+[1-9]\d{6,14}$", required=False, allow_blank=True,
                                   error_messages={"invalid": "Use the international format, e.g. +15551234567."})


class OrderLineSerializer(serializers.ModelSerializer):
    """A line as ordered: `line_total` is unit_price x quantity; `discount_total` its share of the
    order's discounts; `tax_total` its tax at `tax_rate` percent; `total` what was paid for it
    (line_total - discount_total, + tax_total unless the order's prices include tax). A refund of
    some units gives back their share of `total` (`refunded_amount` sums them)."""

    unit_price = serializers.SerializerMethodField()
    line_total = serializers.SerializerMethodField()
    tax_rate = serializers.SerializerMethodField()
    discount_total = serializers.SerializerMethodField()
    tax_total = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    refunded_amount = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = ["sku", "name", "unit_price", "quantity", "line_total", "tax_class", "tax_rate", "discount_total",
                  "tax_total", "total", "refunded_quantity", "refunded_amount"]
        read_only_fields = fields

    def _money(self, line, amount) -> str:
        return str(money(amount, line.order.currency))

    def get_unit_price(self, line) -> str:
        return self._money(line, line.unit_price)

    def get_line_total(self, line) -> str:
        return self._money(line, line.line_total)

    def get_tax_rate(self, line) -> str:
        return str(percent(line.tax_rate))

    def get_discount_total(self, line) -> str:
        return self._money(line, line.discount_total)

    def get_tax_total(self, line) -> str:
        return self._money(line, line.tax_total)

    def get_total(self, line) -> str:
        return self._money(line, line.total)

    def get_refunded_amount(self, line) -> str:
        return self._money(line, line.refunded_amount)


class TaxLineSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The line's SKU, or \"shipping\".")
    tax_class = serializers.CharField()
    rate = serializers.CharField(help_text="Percent, e.g. 19 or 7.25.")
    base = serializers.CharField(help_text="The net amount taxed.")
    amount = serializers.CharField(help_text="The tax, rounded to the currency's minor unit.")


class DiscountAllocationSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The line's SKU, or \"shipping\".")
    amount = serializers.CharField()


class DiscountLineSerializer(serializers.Serializer):
    promotion_id = serializers.IntegerField()
    promotion_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["percentage", "fixed_amount", "free_shipping"])
    voucher_code = serializers.CharField(allow_null=True, help_text="The code that unlocked it; null: automatic.")
    amount = serializers.CharField()
    allocations = DiscountAllocationSerializer(many=True, help_text="Its shares of the lines and shipping.")


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = OrderEvent
        fields = ["kind", "from_status", "to_status", "message", "actor", "created_at"]
        read_only_fields = fields

    def get_actor(self, event) -> str | None:
        return event.actor.get_username() if event.actor_id else None


class PaymentSummarySerializer(serializers.Serializer):
    payment_id = serializers.UUIDField()
    status = serializers.CharField()
    amount_authorized = serializers.DecimalField(max_digits=14, decimal_places=3, coerce_to_string=True)
    amount_captured = serializers.DecimalField(max_digits=14, decimal_places=3, coerce_to_string=True)
    amount_refunded = serializers.DecimalField(max_digits=14, decimal_places=3, coerce_to_string=True)


class AddressSnapshotSerializer(serializers.Serializer):
    """An address as the order recorded it when placed (a copy: later address-book edits do not
    change it)."""

    name = serializers.CharField()
    company = serializers.CharField(required=False)
    line1 = serializers.CharField()
    line2 = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    region = serializers.CharField(required=False)
    postal_code = serializers.CharField(required=False)
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    phone = serializers.CharField(required=False)


class OrderSerializer(serializers.ModelSerializer):
    """Every field is server-owned: clients change an order only through its actions.

    The totals breakdown: total = subtotal + shipping_total - discount_total + tax_total; when
    `prices_include_tax`, the tax is within the prices: total = subtotal + shipping_total -
    discount_total. An order completed from a cart carries both addresses, its shipping method
    and the tax and discount lines that priced it; one placed server to server
    (POST /api/v1/orders/) has none, and its total is its subtotal."""

    subtotal = serializers.SerializerMethodField()
    shipping_total = serializers.SerializerMethodField()
    discount_total = serializers.SerializerMethodField()
    tax_total = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    refunded_amount = serializers.SerializerMethodField()
    shipping_address = serializers.SerializerMethodField()
    billing_address = serializers.SerializerMethodField()
    tax_lines = serializers.SerializerMethodField()
    discount_lines = serializers.SerializerMethodField()
    voucher_codes = serializers.ListField(child=serializers.CharField(), read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "number", "status", "currency", "subtotal", "shipping_total", "discount_total", "tax_total",
                  "total", "prices_include_tax", "refunded_amount", "email", "phone", "shipping_address",
                  "billing_address", "shipping_method", "shipping_method_id", "cart_id", "tax_lines",
                  "discount_lines", "voucher_codes", "tax_id", "zero_rated", "lines", "version", "created_at",
                  "confirmed_at", "paid_at", "shipped_at", "cancelled_at"]
        read_only_fields = fields

    def get_subtotal(self, order) -> str:
        return str(money(order.subtotal, order.currency))

    def get_shipping_total(self, order) -> str:
        return str(money(order.shipping_total, order.currency))

    def get_discount_total(self, order) -> str:
        return str(money(order.discount_total, order.currency))

    def get_tax_total(self, order) -> str:
        return str(money(order.tax_total, order.currency))

    def get_total(self, order) -> str:
        return str(money(order.total, order.currency))

    @extend_schema_field(AddressSnapshotSerializer(allow_null=True))
    def get_shipping_address(self, order):
        return order.shipping_address

    @extend_schema_field(AddressSnapshotSerializer(allow_null=True))
    def get_billing_address(self, order):
        return order.billing_address

    def get_refunded_amount(self, order) -> str:
        return str(money(order.refunded_amount, order.currency))

    @extend_schema_field(TaxLineSerializer(many=True))
    def get_tax_lines(self, order):
        return order.tax_lines

    @extend_schema_field(DiscountLineSerializer(many=True))
    def get_discount_lines(self, order):
        return order.discount_lines


class OrderDetailSerializer(OrderSerializer):
    # The lines, payment and timeline come in the context (`lines`, `payment`, `timeline`):
    # placement hands over what it wrote, every other answer what it read.
    lines = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    payment = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "payment", "timeline"]
        read_only_fields = fields

    @extend_schema_field(OrderLineSerializer(many=True))
    def get_lines(self, order):
        return OrderLineSerializer(self.context["lines"], many=True, context=self.context).data

    @extend_schema_field(OrderEventSerializer(many=True))
    def get_timeline(self, order):
        return OrderEventSerializer(self.context["timeline"], many=True, context=self.context).data

    @extend_schema_field(PaymentSummarySerializer(allow_null=True))
    def get_payment(self, order):
        info = self.context.get("payment")
        if info is None:
            return None
        return {"payment_id": info.payment_id, "status": info.status,
                "amount_authorized": str(money(info.amount_authorized, info.currency)),
                "amount_captured": str(money(info.amount_captured, info.currency)),
                "amount_refunded": str(money(info.amount_refunded, info.currency))}


def order_detail_data(order: Order, *, lines, timeline, payment) -> dict:
    """The body of GET /api/v1/orders/{id}/ for this order, from its lines, timeline and payment
    as the caller holds them."""
    return OrderDetailSerializer(order, context={"lines": lines, "timeline": timeline, "payment": payment}).data


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class RefundLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1)


class RefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0, required=False)
    lines = RefundLineSerializer(many=True, required=False, allow_empty=False)

    def validate(self, attrs):
        if ("amount" in attrs) == ("lines" in attrs):
            raise serializers.ValidationError("Give either an amount or lines to refund, not both.")
        return attrs


class NoteSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=2000)
