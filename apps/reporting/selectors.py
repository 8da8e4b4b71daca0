"""Reporting reads: the staff report queries and the figures DailySales is recomputed from.

These querysets are what the golden T-SQL tests compile for SQL Server, so keep them here and
keep them simple: plain filters, GROUP BY with aggregates that pass default=."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TypeVar

from django.db.models import Count, Max, Q, QuerySet, Sum

from apps.reporting.models import DailySales, OrderDiscount, OrderRefund, OrderReport

ZERO = Decimal("0")
Row = TypeVar("Row")


def daily_sales_list(*, date_from: dt.date | None = None, date_to: dt.date | None = None,
                     currency: str | None = None) -> QuerySet[DailySales]:
    rows = DailySales.objects.all()
    if date_from is not None:
        rows = rows.filter(day__gte=date_from)
    if date_to is not None:
        rows = rows.filter(day__lte=date_to)
    if currency:
        rows = rows.filter(currency=currency)
    return rows


def order_report_list(*, status: str | None = None, date_from: dt.date | None = None,
                      date_to: dt.date | None = None) -> QuerySet[OrderReport]:
    """Placed orders, by the UTC day they were placed (inclusive range). An order whose other
    events overtook its order_placed shows up once order_placed is applied."""
    rows = OrderReport.objects.filter(placed_at__isnull=False)
    if status:
        rows = rows.filter(status=status)
    if date_from is not None:
        rows = rows.filter(placed_on__gte=date_from)
    if date_to is not None:
        rows = rows.filter(placed_on__lte=date_to)
    return rows


def keyset_batches(batch: Callable[[Row | None], QuerySet[Row]], *, batch_size: int) -> Iterator[Row]:
    """Every row of the batches that `batch(after)` reads, each one the rows after the last row of
    the one before (keyset pagination): bounded memory and no server-side cursor, on every engine."""
    last = None
    while True:
        rows = list(batch(last))
        yield from rows
        if len(rows) < batch_size:
            return
        last = rows[-1]


def daily_sales_export(*, batch_size: int, **filters) -> Iterator[DailySales]:
    """Every matching row, oldest day first, read in keyset batches."""
    return keyset_batches(lambda after: daily_sales_export_batch(after=after, batch_size=batch_size, **filters),
                          batch_size=batch_size)


def daily_sales_export_batch(*, after: DailySales | None, batch_size: int, **filters) -> QuerySet[DailySales]:
    rows = daily_sales_list(**filters).order_by("key")
    return (rows if after is None else rows.filter(key__gt=after.key))[:batch_size]


def order_report_export(*, batch_size: int, **filters) -> Iterator[OrderReport]:
    """Every matching order in placement order, read in keyset batches."""
    return keyset_batches(lambda after: order_report_export_batch(after=after, batch_size=batch_size, **filters),
                          batch_size=batch_size)


def order_report_export_batch(*, after: OrderReport | None, batch_size: int, **filters) -> QuerySet[OrderReport]:
    rows = order_report_list(**filters).order_by("placed_at", "order_id")
    if after is not None:
        rows = rows.filter(Q(placed_at__gt=after.placed_at) | Q(placed_at=after.placed_at, order_id__gt=after.order_id))
    return rows[:batch_size]


def daily_sales_order_figures(*, day: dt.date, currency: str) -> QuerySet:
    """Orders, gross, shipping, discount and tax of one day and currency: at most one row (no row:
    nothing sold)."""
    return (OrderReport.objects.filter(placed_on=day, currency=currency, cancelled_at__isnull=True)
            .values("placed_on", "currency")
            .annotate(orders=Count("order_id"), gross=Sum("total", default=ZERO),
                      shipping=Sum("shipping_total", default=ZERO), discount=Sum("discount_total", default=ZERO),
                      tax=Sum("tax_total", default=ZERO))
            .order_by())


def daily_sales_refund_figures(*, day: dt.date, currency: str) -> QuerySet:
    """Refunds that happened on one day in one currency: at most one row."""
    return (OrderRefund.objects.filter(refunded_on=day, currency=currency)
            .values("refunded_on", "currency")
            .annotate(refunds=Sum("amount", default=ZERO))
            .order_by())


def order_refund_figures(*, order_id) -> QuerySet:
    """What one order's refund events add up to: at most one row."""
    return (OrderRefund.objects.filter(order_id=order_id)
            .values("order_id")
            .annotate(refunded=Sum("amount", default=ZERO), last_refund_at=Max("occurred_at"))
            .order_by())


def promotion_usage_list(*, date_from: dt.date | None = None, date_to: dt.date | None = None,
                         currency: str | None = None) -> QuerySet:
    """Per promotion and currency: the orders (not cancelled) it discounted and how much it gave,
    by the UTC day the orders were placed (inclusive range)."""
    rows = OrderDiscount.objects.filter(cancelled=False)
    if date_from is not None:
        rows = rows.filter(placed_on__gte=date_from)
    if date_to is not None:
        rows = rows.filter(placed_on__lte=date_to)
    if currency:
        rows = rows.filter(currency=currency)
    return (rows.values("promotion_id", "currency")
            .annotate(promotion_name=Max("promotion_name"), orders=Count("key"), discount=Sum("amount", default=ZERO),
                      by_code=Count("key", filter=~Q(voucher_code="")))
            .order_by("promotion_id", "currency"))
