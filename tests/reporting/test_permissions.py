"""The reports, lists and CSV exports alike, need reporting.view_reports."""

import pytest

from tests.conftest import client_of
from tests.reporting.factories import DailySalesFactory

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])
REPORTS = ["/api/v1/reports/daily-sales/", "/api/v1/reports/daily-sales/export.csv", "/api/v1/reports/orders/",
           "/api/v1/reports/orders/export.csv"]


@pytest.mark.parametrize("url", REPORTS)
def test_reports_need_reporting_view_reports(staff_with, url):
    DailySalesFactory()
    denied = client_of(staff_with("orders.view_order", "payments.view_payment")).get(url)
    assert (denied.status_code, denied["Content-Type"]) == (403, "application/problem+json")
    assert denied.json()["code"] == "permission_denied"
    assert "reporting.view_reports" in denied.json()["detail"]

    assert client_of(staff_with("reporting.view_reports")).get(url).status_code == 200
