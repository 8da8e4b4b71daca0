"""Staff see payments here, read-only, with their transaction log. Money moves only through the
services (the refund action calls payment_refund, exactly as the API does)."""

import json
import secrets
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from apps.common.admin import ActionOutcome, ReadOnlyInline, ReadOnlyModelAdmin, action_each, action_form
from apps.common.money import money_display
from apps.orders import api as orders
from apps.payments.models import Payment, PaymentTransaction, Refund, WebhookEvent
from apps.payments.services.operations import payment_refund


class PaymentTransactionInline(ReadOnlyInline):
    model = PaymentTransaction
    verbose_name_plural = "transaction log"
    # Fits 1400 px: the long values (idempotency key, the provider's raw answer) fold into one column.
    fields = readonly_fields = ["created_at", "operation", "amount_shown", "outcome", "transition",
                                "provider_reference", "decline", "resolved_by", "details"]

    @admin.display(description="amount")
    def amount_shown(self, transaction):
        return money_display(transaction.amount, transaction.payment.currency)

    @admin.display(description="status")
    def transition(self, transaction):
        return f"{transaction.status_before} → {transaction.status_after}"

    @admin.display(description="decline")
    def decline(self, transaction):
        return ": ".join(part for part in (transaction.decline_code, transaction.message) if part) or "-"

    @admin.display(description="details")
    def details(self, transaction):
        return format_html('<details><summary>show</summary><div style="max-width:28em;overflow-wrap:anywhere">'
                           "<b>resolved at</b> {}<br><b>Idempotency-Key</b> {}<br><b>raw answer</b> {}</div>"
                           "</details>", transaction.resolved_at or "-", transaction.idempotency_key,
                           json.dumps(transaction.raw_response, sort_keys=True))


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = readonly_fields = ["created_at", "amount_shown", "status", "provider_reference", "resolved_at"]

    @admin.display(description="amount")
    def amount_shown(self, refund):
        return money_display(refund.amount, refund.payment.currency)


class RefundForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal("0.001"), max_digits=18, decimal_places=3, required=False,
                                help_text="Empty: refund all that remains refundable.")
    # One token per form shown: the refunds' idempotency key, so a resubmitted form refunds once.
    refund_token = forms.CharField(widget=forms.HiddenInput, required=False)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "order", "status", "amount_shown", "authorized_shown", "captured_shown",
                    "refunded_shown", "provider", "created_at"]
    list_filter = ["status", "provider", "currency", "cancel_requested", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=id", "=order_id", "provider_reference"]
    search_help_text = "An order number, a payment or order id, or a provider reference."
    date_hierarchy = "created_at"
    # Only these: the model's own amount fields would show 3 decimals and no currency.
    fields = readonly_fields = ["id", "order", "order_id", "status", "method", "provider", "provider_reference",
                                "amount_shown", "authorized_shown", "captured_shown", "refunded_shown",
                                "cancel_requested", "version", "created_at", "updated_at"]
    inlines = [PaymentTransactionInline, RefundInline]
    actions = ["refund_payments"]

    def get_search_results(self, request, queryset, search_term):
        # Staff know an order by its number; payments keep only the order's id.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        order_id = orders.order_id_by_number(number=search_term.strip()) if search_term.strip() else None
        if order_id is not None:
            found |= queryset.filter(order_id=order_id)
        return found, may_have_duplicates

    @admin.display(description="order")
    def order(self, payment):
        number = orders.order_numbers(order_ids=[payment.order_id]).get(payment.order_id)
        if number is None:
            return payment.order_id
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[payment.order_id]),
                           number)

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, payment):
        return money_display(payment.amount, payment.currency)

    @admin.display(description="authorized")
    def authorized_shown(self, payment):
        return money_display(payment.amount_authorized, payment.currency)

    @admin.display(description="captured")
    def captured_shown(self, payment):
        return money_display(payment.amount_captured, payment.currency)

    @admin.display(description="refunded")
    def refunded_shown(self, payment):
        return money_display(payment.amount_refunded, payment.currency)

    def has_refund_permission(self, request):
        return request.user.has_perm("payments.refund_payment")

    @admin.action(description="Refund (at the provider)", permissions=["refund"])
    def refund_payments(self, request, queryset):
        if "apply" in request.POST:
            form = RefundForm(request.POST)
            if form.is_valid():
                amount, token = form.cleaned_data["amount"], form.cleaned_data["refund_token"]

                def refund(payment) -> ActionOutcome:
                    info = payment_refund(payment_id=payment.pk, amount=amount,
                                          idempotency_key=f"admin:{payment.pk}:{token}")
                    return ActionOutcome(f"refunded, {money_display(info.amount_refunded, info.currency)} "
                                         "refunded in total.")

                action_each(self, request, queryset, name=lambda payment: str(payment.pk), verb="refunded",
                            act=refund)
                return None
        else:
            form = RefundForm(initial={"refund_token": secrets.token_hex(8)})
        return action_form(self, request, "admin/payments/refund.html", objects=queryset, form=form,
                           title="Refund payments")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyModelAdmin):
    list_display = ["received_at", "provider", "event_id", "event_type", "result"]
    list_filter = ["provider", "result"]
    search_fields = ["=event_id"]
    readonly_fields = ["provider", "event_id", "event_type", "result", "transaction", "payload", "received_at"]
