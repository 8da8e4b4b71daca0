"""Staff manage orders here. Status is never edited directly: ship, cancel and refund call the
services, exactly as the API does, and every action lands in the order's timeline. Each action
needs its named permission (orders.ship_order, ...), as in the API: without it, it is neither
offered (no list action, no button on the order's page) nor accepted (a posted one is 403)."""

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.common.admin import action_each, action_form
from apps.common.http.problems import ApplicationError
from apps.common.money import money_display
from apps.orders import selectors
from apps.orders.breakdown import percent
from apps.orders.models import Order, OrderEvent, OrderLine
from apps.orders.services.lifecycle import order_cancel, order_note_add, order_refund, order_ship
from apps.orders.states import TRANSITIONS
from apps.orders.types import LineRequest


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = readonly_fields = ["sku", "name", "unit_price_shown", "quantity", "line_total_shown", "tax_shown",
                                "discount_shown", "total_shown", "refunded_quantity", "refunded_shown"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="unit price")
    def unit_price_shown(self, line):
        return money_display(line.unit_price, line.order.currency)

    @admin.display(description="line total")
    def line_total_shown(self, line):
        return money_display(line.line_total, line.order.currency)

    @admin.display(description="tax")
    def tax_shown(self, line):
        tax_class = f"{line.tax_class} " if line.tax_class else ""
        return f"{money_display(line.tax_total, line.order.currency)} ({tax_class}{percent(line.tax_rate)} %)"

    @admin.display(description="discount")
    def discount_shown(self, line):
        return money_display(line.discount_total, line.order.currency)

    @admin.display(description="paid")
    def total_shown(self, line):
        return money_display(line.total, line.order.currency)

    @admin.display(description="refunded")
    def refunded_shown(self, line):
        return money_display(line.refunded_amount, line.order.currency)


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    verbose_name_plural = "timeline"
    fields = readonly_fields = ["created_at", "kind", "from_status", "to_status", "message", "actor"]

    def has_add_permission(self, request, obj=None):
        return False


class OrderAdminForm(forms.ModelForm):
    new_note = forms.CharField(label="Add a note", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Order
        fields = []


class RefundForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal("0.001"), max_digits=14, decimal_places=3)
    # One token per form shown: the refunds' idempotency key, so a resubmitted form refunds once.
    refund_token = forms.CharField(widget=forms.HiddenInput, required=False)


class OrderRefundForm(forms.Form):
    """Refund by amount, or by quantities of the order's lines (then the amount is theirs)."""

    amount = forms.DecimalField(min_value=Decimal("0.001"), max_digits=14, decimal_places=3, required=False,
                                help_text="Or leave empty and choose quantities of lines below.")
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        for line in order.lines.all():
            left = line.quantity - line.refunded_quantity
            self.fields[f"line_{line.sku}"] = forms.IntegerField(
                label=f"{line.sku} ({left} of {line.quantity} refundable, up to "
                      f"{money_display(line.total - line.refunded_amount, order.currency)} back)",
                min_value=0, max_value=left, required=False, initial=0)

    def refund_lines(self) -> list[LineRequest]:
        return [LineRequest(sku=name.removeprefix("line_"), quantity=quantity)
                for name, quantity in self.cleaned_data.items() if name.startswith("line_") and quantity]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("amount") is None and not self.refund_lines():
            raise forms.ValidationError("Enter an amount or the quantities of lines to refund.")
        if cleaned.get("amount") is not None and self.refund_lines():
            raise forms.ValidationError("Refund either an amount or lines, not both.")
        return cleaned


class NoteForm(forms.Form):
    message = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 3}))


@dataclass(frozen=True)
class OrderButton:
    """One action offered on the order's page: its URL name suffix, label and target status."""

    name: str
    label: str
    permission: str
    target: str | None  # the status it moves to; None when it changes no status


BUTTONS = (
    OrderButton("ship", "Ship", "orders.ship_order", Order.Status.SHIPPED),
    OrderButton("cancel", "Cancel", "orders.cancel_order", Order.Status.CANCELLED),
    OrderButton("refund", "Refund", "orders.refund_order", Order.Status.PARTIALLY_REFUNDED),
    OrderButton("note", "Add note", "orders.add_note", None),
)
BUTTON_BY_NAME = {button.name: button for button in BUTTONS}


ADDRESS_LINES = (("name",), ("company",), ("line1",), ("line2",), ("postal_code", "city"), ("region",),
                 ("country",), ("phone",))


def _tax_lines_html(order: Order):
    """One row per tax line: what (a SKU or shipping), class and rate, base, tax."""
    if not order.tax_lines:
        return "-"
    return format_html_join("", "{} · {} {} % · base {} · tax {}<br>", (
        (line["key"], line["tax_class"], line["rate"], money_display(line["base"], order.currency),
         money_display(line["amount"], order.currency)) for line in order.tax_lines))


def _discount_lines_html(order: Order):
    """One row per promotion: its name, the code, the amount and how it was shared out."""
    if not order.discount_lines:
        return "-"
    return format_html_join("", "{}{} · {} · {}<br>", (
        (line["promotion_name"], f" (code {line['voucher_code']})" if line["voucher_code"] else "",
         money_display(line["amount"], order.currency),
         ", ".join(f"{share['key']} {money_display(share['amount'], order.currency)}"
                   for share in line["allocations"])) for line in order.discount_lines))


def _address_html(address: dict | None):
    """An address snapshot as the lines of a label; "-" when the order has none."""
    if not address:
        return "-"
    lines = [" ".join(str(address.get(key) or "") for key in keys).strip() for keys in ADDRESS_LINES]
    return format_html_join("", "{}<br>", ((line,) for line in lines if line))


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = OrderAdminForm
    change_form_template = "admin/orders/order/change_form.html"
    list_display = ["number", "status", "customer", "email", "total_shown", "created_at"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter), "currency"]
    search_fields = ["number", "email", "customer__username", "customer__email"]
    date_hierarchy = "created_at"
    list_select_related = ["customer"]
    readonly_fields = ["id", "number", "customer", "email", "phone", "status", "saga_step", "currency",
                       "subtotal_shown", "shipping_shown", "discount_shown", "tax_shown", "total_shown",
                       "refunded_shown", "prices_include_tax", "tax_lines_shown", "discount_lines_shown",
                       "voucher_codes_shown", "tax_id", "zero_rated", "payment", "shipping_address_shown",
                       "billing_address_shown",
                       "shipping_method_shown", "cart_id", "version", "created_at", "confirmed_at", "paid_at",
                       "shipped_at", "cancelled_at"]
    fieldsets = [
        (None, {"fields": ["id", "number", "customer", "email", "phone", "status", "saga_step", "payment",
                           "version", "created_at", "confirmed_at", "paid_at", "shipped_at", "cancelled_at"]}),
        ("Totals", {"fields": ["currency", "subtotal_shown", "shipping_shown", "discount_shown", "tax_shown",
                               "total_shown", "refunded_shown"]}),
        ("Taxes and discounts", {"fields": ["prices_include_tax", "tax_lines_shown", "discount_lines_shown",
                                            "voucher_codes_shown", "tax_id", "zero_rated"]}),
        ("Shipping", {"fields": ["shipping_method_shown", "shipping_address_shown", "billing_address_shown",
                                 "cart_id"]}),
        ("Note", {"fields": ["new_note"]}),
    ]
    inlines = [OrderLineInline, OrderEventInline]
    actions = ["ship_orders", "cancel_orders", "refund_orders"]

    def has_add_permission(self, request):
        return False  # orders are placed through the API's saga

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The change form only adds a note to the timeline.
        return request.user.has_perm("orders.add_note")

    def has_ship_permission(self, request):
        return request.user.has_perm("orders.ship_order")

    def has_cancel_permission(self, request):
        return request.user.has_perm("orders.cancel_order")

    def has_refund_permission(self, request):
        return request.user.has_perm("orders.refund_order")

    @admin.display(description="subtotal")
    def subtotal_shown(self, order):
        return money_display(order.subtotal, order.currency)

    @admin.display(description="shipping")
    def shipping_shown(self, order):
        return money_display(order.shipping_total, order.currency)

    @admin.display(description="discount")
    def discount_shown(self, order):
        return money_display(order.discount_total, order.currency)

    @admin.display(description="tax")
    def tax_shown(self, order):
        return money_display(order.tax_total, order.currency)

    @admin.display(description="total", ordering="total")
    def total_shown(self, order):
        return money_display(order.total, order.currency)

    @admin.display(description="tax lines")
    def tax_lines_shown(self, order):
        return _tax_lines_html(order)

    @admin.display(description="discount lines")
    def discount_lines_shown(self, order):
        return _discount_lines_html(order)

    @admin.display(description="voucher codes")
    def voucher_codes_shown(self, order):
        return ", ".join(order.voucher_codes) or "-"

    @admin.display(description="shipping method")
    def shipping_method_shown(self, order):
        if not order.shipping_method:
            return "- (placed server to server: nothing shipped)"
        return f"{order.shipping_method} · {money_display(order.shipping_total, order.currency)}"

    @admin.display(description="shipping address")
    def shipping_address_shown(self, order):
        return _address_html(order.shipping_address)

    @admin.display(description="billing address")
    def billing_address_shown(self, order):
        return _address_html(order.billing_address)

    @admin.display(description="refunded")
    def refunded_shown(self, order):
        return money_display(order.refunded_amount, order.currency)

    @admin.display(description="payment")
    def payment(self, order):
        info = selectors.order_payment(order=order)
        if info is None:
            return "-"
        url = reverse("admin:payments_payment_change", args=[info.payment_id])
        return format_html('<a href="{}">{}</a> · authorized {} · captured {} · refunded {}', url, info.status,
                           money_display(info.amount_authorized, info.currency),
                           money_display(info.amount_captured, info.currency),
                           money_display(info.amount_refunded, info.currency))

    def save_model(self, request, obj, form, change):
        # The order itself is never saved from the admin; only a note may be added.
        note = form.cleaned_data.get("new_note")
        if note:
            order_note_add(order=obj, actor=request.user, message=note)

    # ------------------------------------------------------------ the buttons on the order's page

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/ship/", view(self.ship_view), name="orders_order_ship"),
            path("<path:object_id>/cancel/", view(self.cancel_view), name="orders_order_cancel"),
            path("<path:object_id>/refund/", view(self.refund_view), name="orders_order_refund"),
            path("<path:object_id>/note/", view(self.note_view), name="orders_order_note"),
            *super().get_urls(),
        ]

    def order_buttons(self, request, order: Order) -> list[OrderButton]:
        """The actions this user may take on this order now."""
        allowed = TRANSITIONS[order.status]
        return [button for button in BUTTONS if request.user.has_perm(button.permission)
                and (button.target is None or button.target in allowed)]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        buttons = []
        if order is not None:
            buttons = [(button.label, reverse(f"admin:orders_order_{button.name}", args=[order.pk]))
                       for button in self.order_buttons(request, order)]
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "order_buttons": buttons})

    def _order_for(self, request, object_id, button: OrderButton) -> Order:
        """The order, if this user may see it and take this action (403 otherwise, on GET and POST)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        order = self.get_object(request, object_id)
        if order is None:
            raise Http404("No such order.")
        if not request.user.has_perm(button.permission):
            raise PermissionDenied
        return order

    def _confirm_page(self, request, order: Order, button: OrderButton, question: str, form=None):
        return TemplateResponse(request, "admin/orders/order/action_confirm.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": order,
            "title": f"{button.label} order {order.number}", "question": question, "form": form,
            "submit_label": button.label, "change_url": reverse("admin:orders_order_change", args=[order.pk]),
        })

    def _outcome(self, request, order: Order, verb: str, call) -> HttpResponseRedirect:
        try:
            call()
        except ApplicationError as exc:
            self.message_user(request, f"Order {order.number} was not {verb}: {exc.detail}", messages.ERROR)
        else:
            self.message_user(request, f"Order {order.number} {verb}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    def ship_view(self, request, object_id):
        order = self._order_for(request, object_id, BUTTON_BY_NAME["ship"])
        if request.method != "POST":
            return self._confirm_page(request, order, BUTTON_BY_NAME["ship"],
                                      "Ship this order? Its payment is captured and its stock committed.")
        return self._outcome(request, order, "shipped",
                             lambda: order_ship(order=order, actor=request.user))

    def cancel_view(self, request, object_id):
        order = self._order_for(request, object_id, BUTTON_BY_NAME["cancel"])
        if request.method != "POST":
            return self._confirm_page(request, order, BUTTON_BY_NAME["cancel"],
                                      "Cancel this order? Its payment is voided and its stock given back.")
        reason = f"Cancelled by {request.user.get_username()} in admin"
        return self._outcome(request, order, "cancelled",
                             lambda: order_cancel(order=order, actor=request.user, reason=reason))

    def note_view(self, request, object_id):
        order = self._order_for(request, object_id, BUTTON_BY_NAME["note"])
        form = NoteForm(request.POST if request.method == "POST" else None)
        if not form.is_valid():
            return self._confirm_page(request, order, BUTTON_BY_NAME["note"],
                                      "Add a note to this order's timeline:", form)
        message = form.cleaned_data["message"]
        return self._outcome(request, order, "noted",
                             lambda: order_note_add(order=order, actor=request.user, message=message))

    def refund_view(self, request, object_id):
        button = BUTTON_BY_NAME["refund"]
        order = self._order_for(request, object_id, button)
        if request.method != "POST":
            form = OrderRefundForm(order=order, initial={"token": secrets.token_hex(16)})
        else:
            form = OrderRefundForm(request.POST, order=order)
        left = money_display(order.total - order.refunded_amount, order.currency)
        if not form.is_valid():
            return self._confirm_page(request, order, button, f"Refund this order? At most {left} can be refunded.",
                                      form)
        # The form's token is the refund's idempotency key: a resubmitted form refunds once (the
        # service records each refund by its key); a refused one may be posted again.
        key = f"admin:{form.cleaned_data['token']}"
        if selectors.refund_made(order=order, idempotency_key=key):
            self.message_user(request, f"Order {order.number}: this refund was already submitted.", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        return self._outcome(request, order, "refunded", lambda: order_refund(
            order=order, actor=request.user, idempotency_key=key, amount=form.cleaned_data["amount"],
            lines=form.refund_lines()))

    # ------------------------------------------------------------ list actions

    def _each(self, request, queryset, verb, call):
        def act(order) -> None:
            call(order)

        action_each(self, request, queryset, name=lambda order: order.number, verb=verb, act=act)

    @admin.action(description="Ship (capture payment, commit stock)", permissions=["ship"])
    def ship_orders(self, request, queryset):
        self._each(request, queryset, "shipped", lambda order: order_ship(order=order, actor=request.user))

    @admin.action(description="Cancel (void payment, release stock)", permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        self._each(request, queryset, "cancelled", lambda order: order_cancel(
            order=order, actor=request.user, reason=f"Cancelled by {request.user.get_username()} in admin"))

    @admin.action(description="Refund an amount", permissions=["refund"])
    def refund_orders(self, request, queryset):
        if "apply" in request.POST:
            form = RefundForm(request.POST)
            if form.is_valid():
                amount, token = form.cleaned_data["amount"], form.cleaned_data["refund_token"]
                self._each(request, queryset, f"refunded {amount}", lambda order: order_refund(
                    order=order, actor=request.user, amount=amount, idempotency_key=f"admin:{token}"))
                return None
        else:
            form = RefundForm(initial={"refund_token": secrets.token_hex(8)})
        return action_form(self, request, "admin/orders/refund.html", objects=queryset, form=form,
                           title="Refund orders")
