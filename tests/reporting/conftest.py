import os
from pathlib import Path

import pytest

from apps.reporting.models import DailySales, InboxEvent, OrderRefund, OrderReport, PaymentReport

HERE = Path(__file__).resolve().parent
REPORTING_ON_MSSQL = os.environ.get("REPORTING_DATABASE_URL", "").startswith("mssql://")
MSSQL_SKIP_REASON = (
    "needs a real SQL Server: set REPORTING_DATABASE_URL=mssql://USER:PASSWORD@HOST:1433/reporting "
    "(e.g. the mssql service of docker-compose.yml); the reporting suite then runs against it")


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(config, items):
    """With REPORTING_DATABASE_URL=mssql://..., the whole reporting suite runs against that SQL
    Server and carries the `mssql` marker (`pytest -m mssql` runs just it). Otherwise the tests
    that need a real server are skipped, saying why, and the rest runs on PostgreSQL."""
    ours = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    for item in ours:
        if REPORTING_ON_MSSQL:
            item.add_marker(pytest.mark.mssql)
        elif item.get_closest_marker("mssql"):
            item.add_marker(pytest.mark.skip(reason=MSSQL_SKIP_REASON))


def projection_snapshot() -> dict:
    """Everything the projections hold (and which events the inbox has seen), comparable."""
    return {
        "orders": list(OrderReport.objects.order_by("order_id").values()),
        "refunds": list(OrderRefund.objects.order_by("event_id").values()),
        "daily_sales": list(DailySales.objects.order_by("key").values()),
        "payments": list(PaymentReport.objects.order_by("payment_id").values()),
        "inbox": sorted(InboxEvent.objects.values_list("event_id", flat=True)),
    }
