"""Staff reports: JSON lists with cursor pagination, and CSV exports that stream every row."""

import csv
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.http.pagination import CursorPagination
from apps.common.http.permissions import HasStaffPermission
from apps.common.http.problems import problem_responses
from apps.pricing import api as pricing_api
from apps.reporting import selectors
from apps.reporting.serializers import (
    DAILY_SALES_COLUMNS,
    ORDER_REPORT_COLUMNS,
    DailySalesQuerySerializer,
    DailySalesSerializer,
    OrderReportQuerySerializer,
    OrderReportSerializer,
    PromotionUsageQuerySerializer,
    PromotionUsageSerializer,
    VoucherUsageQuerySerializer,
    VoucherUsageSerializer,
)

ERRORS = problem_responses(400, 401, 403, 404, 429)
REPORTS_PERMISSION = {"get": "reporting.view_reports"}
CSV_RESPONSE = OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row; every matching row.")


def _filters(query_serializer_class, request) -> dict:
    query = query_serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.filters()


class DailySalesPagination(CursorPagination):
    ordering = ("key",)  # "YYYY-MM-DD:CUR": oldest day first, unique


class OrderReportPagination(CursorPagination):
    ordering = ("-placed_at", "-order_id")  # newest first


class _AcceptAnything(BaseContentNegotiation):
    """The exports answer CSV whatever the client accepts, and errors as problem+json."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _Echo:
    def write(self, value):
        return value


def _csv_response(filename: str, columns: list[str], rows: Iterable, serialize: Callable) -> StreamingHttpResponse:
    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(columns)
        for row in rows:
            data = serialize(row)
            yield writer.writerow(["" if data[column] is None else data[column] for column in columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@extend_schema(tags=["reports"])
class DailySalesReportView(generics.ListAPIView):
    permission_classes = [HasStaffPermission]
    staff_permissions = REPORTS_PERMISSION
    serializer_class = DailySalesSerializer
    pagination_class = DailySalesPagination

    @extend_schema(parameters=[DailySalesQuerySerializer], responses={200: DailySalesSerializer(many=True), **ERRORS})
    def get(self, request):
        """Staff: sales per day and currency (orders, gross, shipping, discount, tax, refunds, net),
        oldest day first, from the read model that order and payment events feed; `from` and `to`
        bound the days. `shipping` is the shipping revenue within `gross`, `discount` what
        promotions took off before it, `tax` the tax collected within it."""
        rows = selectors.daily_sales_list(**_filters(DailySalesQuerySerializer, request))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema(tags=["reports"])
class DailySalesExportView(APIView):
    permission_classes = [HasStaffPermission]
    staff_permissions = REPORTS_PERMISSION
    content_negotiation_class = _AcceptAnything

    @extend_schema(operation_id="reports_daily_sales_export", parameters=[DailySalesQuerySerializer],
                   responses={(200, "text/csv"): CSV_RESPONSE, **ERRORS})
    def get(self, request):
        """Staff: the daily sales matching the filters, every row, as CSV (streamed)."""
        rows = selectors.daily_sales_export(batch_size=settings.REPORTING_EXPORT_BATCH_SIZE,
                                            **_filters(DailySalesQuerySerializer, request))
        return _csv_response("daily-sales.csv", DAILY_SALES_COLUMNS, rows,
                             lambda row: DailySalesSerializer(row).data)


@extend_schema(tags=["reports"])
class OrderReportView(generics.ListAPIView):
    permission_classes = [HasStaffPermission]
    staff_permissions = REPORTS_PERMISSION
    serializer_class = OrderReportSerializer
    pagination_class = OrderReportPagination

    @extend_schema(parameters=[OrderReportQuerySerializer], responses={200: OrderReportSerializer(many=True), **ERRORS})
    def get(self, request):
        """Staff: one row per order (status, amounts, dates), newest first, from the read model that
        order and payment events feed; filter by placement date and status."""
        rows = selectors.order_report_list(**_filters(OrderReportQuerySerializer, request))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema(tags=["reports"])
class OrderReportExportView(APIView):
    permission_classes = [HasStaffPermission]
    staff_permissions = REPORTS_PERMISSION
    content_negotiation_class = _AcceptAnything

    @extend_schema(operation_id="reports_orders_export", parameters=[OrderReportQuerySerializer],
                   responses={(200, "text/csv"): CSV_RESPONSE, **ERRORS})
    def get(self, request):
        """Staff: the order rows matching the filters, every row, as CSV (streamed)."""
        rows = selectors.order_report_export(batch_size=settings.REPORTING_EXPORT_BATCH_SIZE,
                                             **_filters(OrderReportQuerySerializer, request))
        return _csv_response("orders.csv", ORDER_REPORT_COLUMNS, rows, lambda row: OrderReportSerializer(row).data)


@extend_schema(tags=["reports"])
class PromotionUsageReportView(APIView):
    permission_classes = [HasStaffPermission]
    staff_permissions = REPORTS_PERMISSION

    @extend_schema(operation_id="reports_promotions", parameters=[PromotionUsageQuerySerializer],
                   responses={200: PromotionUsageSerializer(many=True), **ERRORS})
    def get(self, request):
        """Staff: what each promotion gave, per currency: the orders it discounted (not cancelled),
        how many of them through a code, and the discount, from the orders' events; `from` and
        `to` bound the days the orders were placed. Every promotion that discounted an order is a
        row (automatic ones included); there are few, so the list is not paged."""
        rows = selectors.promotion_usage_list(**_filters(PromotionUsageQuerySerializer, request))
        return Response(PromotionUsageSerializer(rows, many=True).data)


@extend_schema(tags=["reports"])
class VoucherUsageReportView(APIView):
    permission_classes = [HasStaffPermission]
    staff_permissions = REPORTS_PERMISSION

    @extend_schema(operation_id="reports_vouchers", parameters=[VoucherUsageQuerySerializer],
                   responses={200: VoucherUsageSerializer(many=True), **ERRORS})
    def get(self, request):
        """Staff: every voucher code with its limits and how its uses stand now (held: reserved by
        orders being placed and confirmed by placed ones; released: given back by orders that
        failed or were cancelled before shipment; remaining), by promotion, from the pricing
        module's ledger. Filter by `promotion_id`. Not paged."""
        query = VoucherUsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        usage = pricing_api.voucher_usage(promotion_id=query.validated_data.get("promotion_id"))
        return Response(VoucherUsageSerializer(usage, many=True).data)
