"""Staff manage orders here. Status is never edited directly: ship, cancel and refund call the
services, exactly as the API does, and every action lands in the order's timeline. Each action
needs its named permission (orders.ship_order, ...), as in the API: without it, it is neither
listed nor accepted."""

import secrets
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils.html import format_html

from apps.common.problems import ApplicationError
from apps.orders import selectors, services
from apps.orders.models import Order, OrderEvent, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = readonly_fields = ["sku", "name", "unit_price", "quantity", "line_total", "refunded_quantity"]

    def has_add_permission(self, request, obj=None):
        return False


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


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = OrderAdminForm
    list_display = ["number", "status", "customer", "email", "currency", "total", "created_at"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter), "currency"]
    search_fields = ["number", "email", "customer__username", "customer__email"]
    date_hierarchy = "created_at"
    list_select_related = ["customer"]
    readonly_fields = ["id", "number", "customer", "email", "phone", "status", "saga_step", "currency", "subtotal",
                       "total", "refunded_amount", "payment", "version", "created_at", "confirmed_at", "paid_at",
                       "shipped_at", "cancelled_at"]
    fields = [*readonly_fields, "new_note"]
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

    @admin.display(description="payment")
    def payment(self, order):
        info = selectors.order_payment(order=order)
        if info is None:
            return "-"
        return format_html("{} · authorized {} · captured {} · refunded {} {}", info.status, info.amount_authorized,
                           info.amount_captured, info.amount_refunded, info.currency)

    def save_model(self, request, obj, form, change):
        # The order itself is never saved from the admin; only a note may be added.
        note = form.cleaned_data.get("new_note")
        if note:
            services.order_note_add(order=obj, actor=request.user, message=note)

    def _each(self, request, queryset, verb, call):
        for order in queryset:
            try:
                call(order)
            except ApplicationError as exc:
                self.message_user(request, f"{order.number}: not {verb}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{order.number}: {verb}.", messages.SUCCESS)

    @admin.action(description="Ship (capture payment, commit stock)", permissions=["ship"])
    def ship_orders(self, request, queryset):
        self._each(request, queryset, "shipped", lambda order: services.order_ship(order=order, actor=request.user))

    @admin.action(description="Cancel (void payment, release stock)", permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        self._each(request, queryset, "cancelled", lambda order: services.order_cancel(
            order=order, actor=request.user, reason=f"Cancelled by {request.user.get_username()} in admin"))

    @admin.action(description="Refund an amount", permissions=["refund"])
    def refund_orders(self, request, queryset):
        if "apply" in request.POST:
            form = RefundForm(request.POST)
            if form.is_valid():
                amount = form.cleaned_data["amount"]
                self._each(request, queryset, f"refunded {amount}", lambda order: services.order_refund(
                    order=order, actor=request.user, amount=amount,
                    idempotency_key=f"admin:{request.POST.get('refund_token', '')}"))
                return None
        else:
            form = RefundForm()
        return render(request, "admin/orders/refund.html", {
            **self.admin_site.each_context(request), "orders": queryset, "form": form,
            "refund_token": request.POST.get("refund_token") or secrets.token_hex(8), "title": "Refund orders",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })


