"""The T-SQL that mssql-django compiles for the reporting queries and migrations, without a server.

The seam: mssql.base.DatabaseWrapper built for an mssql:// URL never connects until it runs a
query. Compiling a queryset (query.get_compiler(connection=...).as_sql()) and collecting DDL
(schema_editor(collect_sql=True)) need only what a live connection would have asked the server:
its version (SQL Server 2022, not Azure) and, for SELECT ... FOR UPDATE, whether a transaction is
open (it is: every locking read runs inside transaction.atomic). Those three answers are given
explicitly below; everything else is mssql-django's own code.

When a golden string changes, the SQL sent to production changes: review it as such.
Tests marked `mssql` check the same strings against a real server (REPORTING_DATABASE_URL=mssql://...).
"""

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from mssql.base import DatabaseWrapper as MSSQLDatabaseWrapper

from apps.reporting import selectors
from apps.reporting.models import DailySales, OrderReport
from apps.reporting.views import DailySalesPagination, OrderReportPagination
from config.env import database_from_url

NOV_1, NOV_21, NOV_30 = dt.date(2026, 11, 1), dt.date(2026, 11, 21), dt.date(2026, 11, 30)
NINE = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
LAST_EXPORTED = OrderReport(order_id=uuid.UUID("7d9f1c2e-0000-4000-8000-000000000001"), placed_at=NINE)
PAGE = 50  # settings.API_PAGE_SIZE: a page reads one row more to know whether there is a next one


def offline_mssql_connection() -> MSSQLDatabaseWrapper:
    """The reporting alias as production configures it, minus the server."""
    url = "mssql://commerce:secret@mssql:1433/reporting"
    settings_dict = connections.configure_settings({"default": {}, "reporting": database_from_url(url)})["reporting"]
    connection = MSSQLDatabaseWrapper(settings_dict, alias="reporting")
    connection.sql_server_version = 2022  # what SERVERPROPERTY('ProductVersion') 16.x maps to
    connection.to_azure_sql_db = False
    connection.get_autocommit = lambda: False  # inside transaction.atomic, as the locking reads are
    return connection


def compiled(queryset, connection=None) -> tuple[str, tuple]:
    sql, params = queryset.query.get_compiler(connection=connection or offline_mssql_connection()).as_sql()
    return sql, tuple(params)


def one_line(golden: str) -> str:
    """The golden strings are wrapped for reading: a line break and its indent stand for one space."""
    return re.sub(r"\s*\n\s*", " ", golden.strip())


def migration_sql(connection, app_label: str, name: str) -> list[str]:
    """What `sqlmigrate <app_label> <name>` prints for this connection, minus comments."""
    loader = MigrationLoader(None, ignore_no_migrations=True)  # reads the files, asks no database
    migration = loader.graph.nodes[(app_label, name)]
    state = loader.project_state((app_label, name), at_end=False)
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        migration.apply(state, editor, collect_sql=True)
    return [statement for statement in editor.collected_sql if not statement.startswith("--")]


# ---------------------------------------------------------------- golden T-SQL

DAILY_SALES_FIRST_PAGE = """
SELECT TOP 51 [reporting_dailysales].[key], [reporting_dailysales].[day],
    [reporting_dailysales].[currency], [reporting_dailysales].[orders],
    [reporting_dailysales].[gross], [reporting_dailysales].[shipping],
    [reporting_dailysales].[discount], [reporting_dailysales].[tax],
    [reporting_dailysales].[refunds], [reporting_dailysales].[net]
FROM [reporting_dailysales]
WHERE ([reporting_dailysales].[day] >= %s AND [reporting_dailysales].[day] <= %s AND
    [reporting_dailysales].[currency] = %s)
ORDER BY [reporting_dailysales].[key] ASC
"""

ORDERS_FIRST_PAGE = """
SELECT TOP 51 [reporting_orderreport].[order_id], [reporting_orderreport].[number],
    [reporting_orderreport].[customer_id], [reporting_orderreport].[currency],
    [reporting_orderreport].[status], [reporting_orderreport].[subtotal],
    [reporting_orderreport].[shipping_total], [reporting_orderreport].[discount_total],
    [reporting_orderreport].[tax_total], [reporting_orderreport].[total],
    [reporting_orderreport].[refunded_amount],
    [reporting_orderreport].[fully_refunded], [reporting_orderreport].[payment_id],
    [reporting_orderreport].[placed_at], [reporting_orderreport].[paid_at],
    [reporting_orderreport].[shipped_at], [reporting_orderreport].[cancelled_at],
    [reporting_orderreport].[refunded_at], [reporting_orderreport].[placed_on],
    [reporting_orderreport].[last_event_at]
FROM [reporting_orderreport]
WHERE ([reporting_orderreport].[placed_at] IS NOT NULL AND [reporting_orderreport].[status] = %s
    AND [reporting_orderreport].[placed_on] >= %s AND [reporting_orderreport].[placed_on] <= %s)
ORDER BY [reporting_orderreport].[placed_at] DESC, [reporting_orderreport].[order_id] DESC
"""

ORDERS_LATER_PAGE = """
SELECT [reporting_orderreport].[order_id], [reporting_orderreport].[number],
    [reporting_orderreport].[customer_id], [reporting_orderreport].[currency],
    [reporting_orderreport].[status], [reporting_orderreport].[subtotal],
    [reporting_orderreport].[shipping_total], [reporting_orderreport].[discount_total],
    [reporting_orderreport].[tax_total], [reporting_orderreport].[total],
    [reporting_orderreport].[refunded_amount],
    [reporting_orderreport].[fully_refunded], [reporting_orderreport].[payment_id],
    [reporting_orderreport].[placed_at], [reporting_orderreport].[paid_at],
    [reporting_orderreport].[shipped_at], [reporting_orderreport].[cancelled_at],
    [reporting_orderreport].[refunded_at], [reporting_orderreport].[placed_on],
    [reporting_orderreport].[last_event_at]
FROM [reporting_orderreport]
WHERE ([reporting_orderreport].[placed_at] IS NOT NULL AND [reporting_orderreport].[placed_at] <
    %s)
ORDER BY [reporting_orderreport].[placed_at] DESC, [reporting_orderreport].[order_id] DESC""" + (
    "  OFFSET 1 ROWS FETCH FIRST 51 ROWS ONLY")  # sic: mssql-django writes two spaces before OFFSET

ORDERS_EXPORT_BATCH = """
SELECT TOP 1000 [reporting_orderreport].[order_id], [reporting_orderreport].[number],
    [reporting_orderreport].[customer_id], [reporting_orderreport].[currency],
    [reporting_orderreport].[status], [reporting_orderreport].[subtotal],
    [reporting_orderreport].[shipping_total], [reporting_orderreport].[discount_total],
    [reporting_orderreport].[tax_total], [reporting_orderreport].[total],
    [reporting_orderreport].[refunded_amount],
    [reporting_orderreport].[fully_refunded], [reporting_orderreport].[payment_id],
    [reporting_orderreport].[placed_at], [reporting_orderreport].[paid_at],
    [reporting_orderreport].[shipped_at], [reporting_orderreport].[cancelled_at],
    [reporting_orderreport].[refunded_at], [reporting_orderreport].[placed_on],
    [reporting_orderreport].[last_event_at]
FROM [reporting_orderreport]
WHERE ([reporting_orderreport].[placed_at] IS NOT NULL AND [reporting_orderreport].[placed_on]
    >= %s AND ([reporting_orderreport].[placed_at] > %s OR ([reporting_orderreport].[order_id] >
    %s AND [reporting_orderreport].[placed_at] = %s)))
ORDER BY [reporting_orderreport].[placed_at] ASC, [reporting_orderreport].[order_id] ASC
"""

DAILY_SALES_ORDER_FIGURES = """
SELECT [reporting_orderreport].[placed_on] AS [placed_on], [reporting_orderreport].[currency] AS
    [currency], COUNT_BIG([reporting_orderreport].[order_id]) AS [orders],
    COALESCE(SUM([reporting_orderreport].[total]), %s) AS [gross],
    COALESCE(SUM([reporting_orderreport].[shipping_total]), %s) AS [shipping],
    COALESCE(SUM([reporting_orderreport].[discount_total]), %s) AS [discount],
    COALESCE(SUM([reporting_orderreport].[tax_total]), %s) AS [tax]
FROM [reporting_orderreport]
WHERE ([reporting_orderreport].[cancelled_at] IS NULL AND [reporting_orderreport].[currency] =
    %s AND [reporting_orderreport].[placed_on] = %s)
GROUP BY [reporting_orderreport].[placed_on], [reporting_orderreport].[currency]
"""

DAILY_SALES_REFUND_FIGURES = """
SELECT [reporting_orderrefund].[refunded_on] AS [refunded_on],
    [reporting_orderrefund].[currency] AS [currency],
    COALESCE(SUM([reporting_orderrefund].[amount]), %s) AS [refunds]
FROM [reporting_orderrefund]
WHERE ([reporting_orderrefund].[currency] = %s AND [reporting_orderrefund].[refunded_on] = %s)
GROUP BY [reporting_orderrefund].[refunded_on], [reporting_orderrefund].[currency]
"""

DAILY_SALES_ROW_LOCK = """
SELECT [reporting_dailysales].[key], [reporting_dailysales].[day],
    [reporting_dailysales].[currency], [reporting_dailysales].[orders],
    [reporting_dailysales].[gross], [reporting_dailysales].[shipping],
    [reporting_dailysales].[discount], [reporting_dailysales].[tax],
    [reporting_dailysales].[refunds], [reporting_dailysales].[net]
FROM [reporting_dailysales] WITH (ROWLOCK, UPDLOCK)
WHERE [reporting_dailysales].[key] = %s
"""

PROMOTION_USAGE = """
SELECT [reporting_orderdiscount].[promotion_id] AS [promotion_id], [reporting_orderdiscount].[currency] AS
    [currency], MAX([reporting_orderdiscount].[promotion_name]) AS [promotion_name],
    COUNT_BIG([reporting_orderdiscount].[key]) AS [orders],
    COALESCE(SUM([reporting_orderdiscount].[amount]), %s) AS [discount],
    COUNT_BIG(CASE WHEN NOT ([reporting_orderdiscount].[voucher_code] = %s) THEN
    [reporting_orderdiscount].[key] ELSE NULL END) AS [by_code]
FROM [reporting_orderdiscount]
WHERE ([reporting_orderdiscount].[cancelled] = %s AND [reporting_orderdiscount].[placed_on] >= %s AND
    [reporting_orderdiscount].[placed_on] <= %s AND [reporting_orderdiscount].[currency] = %s)
GROUP BY [reporting_orderdiscount].[promotion_id], [reporting_orderdiscount].[currency]
ORDER BY 1 ASC, 2 ASC OFFSET 0 ROWS
"""

MIGRATION_0001_TABLES = [
    """
CREATE TABLE [reporting_paymentreport] ([payment_id] char(32) NOT NULL PRIMARY KEY, [order_id]
    char(32) NULL, [currency] nvarchar(3) NOT NULL, [status] nvarchar(20) NOT NULL,
    [amount_authorized] numeric(14, 3) NULL, [amount_captured] numeric(14, 3) NOT NULL,
    [amount_refunded] numeric(14, 3) NOT NULL, [authorized_at] datetimeoffset NULL,
    [captured_at] datetimeoffset NULL, [voided_at] datetimeoffset NULL, [failed_at]
    datetimeoffset NULL, [refunded_at] datetimeoffset NULL, [last_event_at] datetimeoffset NOT
    NULL);
""",
    """
CREATE TABLE [reporting_dailysales] ([key] nvarchar(14) NOT NULL PRIMARY KEY, [day] date NOT
    NULL, [currency] nvarchar(3) NOT NULL, [orders] int NOT NULL, [gross] numeric(18, 3) NOT
    NULL, [refunds] numeric(18, 3) NOT NULL, [net] numeric(18, 3) NOT NULL);
""",
    """
CREATE TABLE [reporting_inboxevent] ([id] char(32) NOT NULL PRIMARY KEY, [consumer]
    nvarchar(100) NOT NULL, [event_id] char(32) NOT NULL, [event_type] nvarchar(100) NOT NULL,
    [occurred_at] datetimeoffset NOT NULL, [applied_at] datetimeoffset NOT NULL, [redeliveries]
    int NOT NULL, CONSTRAINT [reporting_inboxevent_consumer_event] UNIQUE ([consumer],
    [event_id]));
""",
    """
CREATE TABLE [reporting_orderrefund] ([event_id] char(32) NOT NULL PRIMARY KEY, [order_id]
    char(32) NOT NULL, [currency] nvarchar(3) NOT NULL, [amount] numeric(14, 3) NOT NULL,
    [occurred_at] datetimeoffset NOT NULL, [refunded_on] date NOT NULL);
""",
    """
CREATE TABLE [reporting_orderreport] ([order_id] char(32) NOT NULL PRIMARY KEY, [number]
    nvarchar(20) NOT NULL, [customer_id] bigint NULL, [currency] nvarchar(3) NOT NULL, [status]
    nvarchar(20) NOT NULL, [subtotal] numeric(14, 3) NULL, [total] numeric(14, 3) NULL,
    [refunded_amount] numeric(14, 3) NOT NULL, [fully_refunded] bit NOT NULL, [payment_id]
    char(32) NULL, [placed_at] datetimeoffset NULL, [paid_at] datetimeoffset NULL, [shipped_at]
    datetimeoffset NULL, [cancelled_at] datetimeoffset NULL, [refunded_at] datetimeoffset NULL,
    [placed_on] date NULL, [last_event_at] datetimeoffset NOT NULL);
""",
]
MIGRATION_0001_INDEXES = {
    """
CREATE INDEX [reporting_daily_day_idx] ON [reporting_dailysales] ([day], [currency]);
""",
    """
CREATE INDEX [reporting_inboxevent_applied_at_8478c8a5] ON [reporting_inboxevent]
    ([applied_at]);
""",
    """
CREATE INDEX [reporting_order_day_idx] ON [reporting_orderreport] ([placed_on], [currency]);
""",
    """
CREATE INDEX [reporting_order_placed_idx] ON [reporting_orderreport] ([placed_at], [order_id]);
""",
    """
CREATE INDEX [reporting_order_status_idx] ON [reporting_orderreport] ([status], [placed_at]);
""",
    """
CREATE INDEX [reporting_orderrefund_order_id_e54117c5] ON [reporting_orderrefund] ([order_id]);
""",
    """
CREATE INDEX [reporting_paymentreport_order_id_d2c696ac] ON [reporting_paymentreport]
    ([order_id]);
""",
    """
CREATE INDEX [reporting_refund_day_idx] ON [reporting_orderrefund] ([refunded_on], [currency]);
""",
}


# ---------------------------------------------------------------- the tests

def report_queries() -> dict:
    """name -> (queryset as the app runs it, golden SQL, params)."""
    return {
        "daily sales, first page of a month in USD": (
            selectors.daily_sales_list(date_from=NOV_1, date_to=NOV_30, currency="USD")
            .order_by(*DailySalesPagination.ordering)[:PAGE + 1],
            DAILY_SALES_FIRST_PAGE, ("2026-11-01", "2026-11-30", "USD")),
        "orders, shipped in a month, first page": (
            selectors.order_report_list(status="shipped", date_from=NOV_1, date_to=NOV_30)
            .order_by(*OrderReportPagination.ordering)[:PAGE + 1],
            ORDERS_FIRST_PAGE, ("shipped", "2026-11-01", "2026-11-30")),
        "orders, a later page (cursor position with an offset for ties)": (
            selectors.order_report_list().order_by(*OrderReportPagination.ordering)
            .filter(placed_at__lt=NINE)[1:PAGE + 2],
            ORDERS_LATER_PAGE, (NINE,)),
        "orders export, the batch after a row": (
            selectors.order_report_export_batch(after=LAST_EXPORTED, batch_size=1000, date_from=NOV_21),
            ORDERS_EXPORT_BATCH, ("2026-11-21", NINE, "7d9f1c2e000040008000000000000001", NINE)),
        "daily sales recompute, orders and gross": (
            selectors.daily_sales_order_figures(day=NOV_21, currency="USD"),
            DAILY_SALES_ORDER_FIGURES, (Decimal(0), Decimal(0), Decimal(0), Decimal(0), "USD", "2026-11-21")),
        "daily sales recompute, refunds": (
            selectors.daily_sales_refund_figures(day=NOV_21, currency="USD"),
            DAILY_SALES_REFUND_FIGURES, (Decimal(0), "USD", "2026-11-21")),
        "promotion usage, a month in EUR": (
            selectors.promotion_usage_list(date_from=NOV_1, date_to=NOV_30, currency="EUR"),
            PROMOTION_USAGE, (Decimal(0), "", False, "2026-11-01", "2026-11-30", "EUR")),
        "daily sales recompute, the row lock that serializes it": (
            DailySales.objects.select_for_update().filter(key="2026-11-21:USD"),
            DAILY_SALES_ROW_LOCK, ("2026-11-21:USD",)),
    }


@pytest.mark.parametrize("name", list(report_queries()))
def test_report_queries_compile_to_the_golden_tsql(name):
    queryset, golden, params = report_queries()[name]

    assert compiled(queryset) == (one_line(golden), params)


def test_the_reporting_migration_compiles_to_the_golden_ddl():
    statements = migration_sql(offline_mssql_connection(), "reporting", "0001_initial")

    tables = [statement for statement in statements if statement.startswith("CREATE TABLE")]
    others = [statement for statement in statements if not statement.startswith("CREATE TABLE")]
    assert tables == [one_line(table) for table in MIGRATION_0001_TABLES]
    # mssql-django deduplicates deferred statements through a set: their order varies run to run
    assert set(others) == {one_line(index) for index in MIGRATION_0001_INDEXES}
    assert len(others) == len(MIGRATION_0001_INDEXES)
    assert statements == tables + others  # every table exists before its indexes


def test_the_reporting_ddl_keeps_the_portability_rules():
    ddl = " ".join(migration_sql(offline_mssql_connection(), "reporting", "0001_initial")).upper()

    assert "IDENTITY" not in ddl  # explicit primary keys only
    assert "CHECK" not in ddl  # no check constraints (PositiveIntegerField would add one)
    assert " DEFAULT " not in ddl  # defaults come from Python, not the database
    assert "FLOAT" not in ddl and "REAL" not in ddl  # money is numeric


def test_the_shipping_revenue_migration_adds_its_columns_and_leaves_no_database_default():
    statements = migration_sql(offline_mssql_connection(), "reporting", "0003_shipping_revenue")

    added = [statement for statement in statements if " ADD " in statement]
    assert added == [
        "ALTER TABLE [reporting_dailysales] ADD [shipping] numeric(18, 3) DEFAULT 0 NOT NULL;",
        "ALTER TABLE [reporting_orderreport] ADD [shipping_total] numeric(14, 3) DEFAULT 0 NOT NULL;",
    ]
    # The DEFAULT only fills the rows already there (all from version 1 events: no shipping); it
    # is dropped at once, so the schema keeps no database default (portability rule 7).
    dropped = [statement for statement in statements if "DROP CONSTRAINT" in statement]
    assert [statement.split("]")[0] for statement in dropped] == ["ALTER TABLE [reporting_dailysales",
                                                                  "ALTER TABLE [reporting_orderreport"]
    ddl = " ".join(statements).upper()
    assert "CHECK" not in ddl and "FLOAT" not in ddl and "IDENTITY" not in ddl


def test_the_taxes_and_promotions_migration_adds_columns_and_a_table_and_leaves_no_database_default():
    statements = migration_sql(offline_mssql_connection(), "reporting", "0004_taxes_discounts_promotions")

    added = [statement for statement in statements if " ADD " in statement]
    assert added == [
        "ALTER TABLE [reporting_dailysales] ADD [discount] numeric(18, 3) DEFAULT 0 NOT NULL;",
        "ALTER TABLE [reporting_dailysales] ADD [tax] numeric(18, 3) DEFAULT 0 NOT NULL;",
        "ALTER TABLE [reporting_orderreport] ADD [discount_total] numeric(14, 3) DEFAULT 0 NOT NULL;",
        "ALTER TABLE [reporting_orderreport] ADD [tax_total] numeric(14, 3) DEFAULT 0 NOT NULL;",
    ]
    # The DEFAULT fills the rows already there (orders before issue #18 had no discount nor tax),
    # then goes: the schema keeps no database default (portability rule 7).
    dropped = [statement.split("]")[0] for statement in statements if "DROP CONSTRAINT" in statement]
    assert dropped == ["ALTER TABLE [reporting_dailysales"] * 2 + ["ALTER TABLE [reporting_orderreport"] * 2
    (table,) = [statement for statement in statements if statement.startswith("CREATE TABLE")]
    assert table == one_line("""
CREATE TABLE [reporting_orderdiscount] ([key] nvarchar(64) NOT NULL PRIMARY KEY, [order_id] char(32) NOT
    NULL, [promotion_id] bigint NOT NULL, [promotion_name] nvarchar(100) NOT NULL, [voucher_code] nvarchar(64)
    NOT NULL, [currency] nvarchar(3) NOT NULL, [amount] numeric(14, 3) NOT NULL, [placed_on] date NOT NULL,
    [cancelled] bit NOT NULL);
""")
    ddl = " ".join(statements).upper()
    assert "CHECK" not in ddl and "FLOAT" not in ddl and "IDENTITY" not in ddl


# ---------------------------------------------------------------- against a real SQL Server

@pytest.mark.mssql
@pytest.mark.django_db(databases=["reporting"])
@pytest.mark.parametrize("name", list(report_queries()))
def test_a_live_sql_server_connection_compiles_the_same_tsql(name):
    connection = connections["reporting"]
    assert connection.vendor == "microsoft"
    queryset, golden, params = report_queries()[name]
    if queryset.query.select_for_update:
        pytest.skip("a locking read compiles only inside a transaction; see the offline test")

    assert compiled(queryset, connection) == (one_line(golden), params)


@pytest.mark.mssql
@pytest.mark.django_db(databases=["default", "reporting"])
def test_the_report_queries_run_on_sql_server():
    from apps.reporting.services.consumer import reporting_event_apply
    from tests.reporting.factories import T0, OrderStory

    story = OrderStory.new()
    for event in (story.place(T0), story.ship(T0 + dt.timedelta(hours=1)), story.refund("5.00", T0)):
        reporting_event_apply(event)

    (row,) = selectors.order_report_list(status="partially_refunded", date_from=T0.date(), date_to=T0.date())
    assert row.order_id == story.order_id
    (day,) = selectors.daily_sales_list(date_from=T0.date(), date_to=T0.date(), currency="USD")
    assert (day.orders, day.gross, day.refunds, day.net) == (1, Decimal("45.00"), Decimal("5.00"), Decimal("40.00"))
    batch = list(selectors.order_report_export_batch(after=row, batch_size=10))
    assert batch == []
