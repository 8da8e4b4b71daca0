"""Read-only views of the projections: they are written only by events (and reporting_rebuild)."""

import uuid

from django.contrib import admin
from django.db.models import Q

from apps.common.admin import ReadOnlyModelAdmin
from apps.reporting.models import DailySales, InboxEvent, OrderRefund, OrderReport, PaymentReport


class ReadOnlyAdmin(ReadOnlyModelAdmin):
    uuid_search_fields: tuple[str, ...] = ()  # searched by exact id: the search term must be a UUID

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        try:
            value = uuid.UUID(search_term.strip())
        except ValueError:
            if self.uuid_search_fields and not set(self.search_fields) - set(self.uuid_search_fields):
                return queryset.none(), False
            return super().get_search_results(request, queryset, search_term)
        match = Q()
        for field in self.uuid_search_fields:
            match |= Q(**{field: value})
        return queryset.filter(match), False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(DailySales)
class DailySalesAdmin(ReadOnlyAdmin):
    list_display = ["day", "currency", "orders", "gross", "shipping", "discount", "tax", "refunds", "net"]
    list_filter = ["currency", ("day", admin.DateFieldListFilter)]
    date_hierarchy = "day"
    ordering = ["-key"]


@admin.register(OrderReport)
class OrderReportAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "currency", "shipping_total", "total", "refunded_amount", "placed_at",
                    "paid_at", "shipped_at"]
    list_filter = ["status", "currency", ("placed_on", admin.DateFieldListFilter)]
    search_fields = ["number"]
    uuid_search_fields = ("order_id", "payment_id")
    ordering = ["-placed_at"]


@admin.register(OrderRefund)
class OrderRefundAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "order_id", "amount", "currency", "occurred_at"]
    list_filter = ["currency", ("refunded_on", admin.DateFieldListFilter)]
    search_fields = uuid_search_fields = ("order_id", "event_id")
    ordering = ["-occurred_at"]


@admin.register(PaymentReport)
class PaymentReportAdmin(ReadOnlyAdmin):
    list_display = ["payment_id", "order_id", "status", "currency", "amount_authorized", "amount_captured",
                    "amount_refunded", "last_event_at"]
    list_filter = ["status", "currency"]
    search_fields = uuid_search_fields = ("payment_id", "order_id")
    ordering = ["-last_event_at"]


@admin.register(InboxEvent)
class InboxEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "event_type", "occurred_at", "applied_at", "redeliveries"]
    list_filter = ["event_type"]
    search_fields = uuid_search_fields = ("event_id",)
    ordering = ["-applied_at"]
