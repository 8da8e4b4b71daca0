"""Staff reports over HTTP: filters, validation, pagination and CSV exports."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from apps.reporting.services.consumer import reporting_event_apply
from tests.reporting.factories import T0, DailySalesFactory, OrderStory

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])

DAILY = "/api/v1/reports/daily-sales/"
DAILY_CSV = "/api/v1/reports/daily-sales/export.csv"
ORDERS = "/api/v1/reports/orders/"
ORDERS_CSV = "/api/v1/reports/orders/export.csv"
D = dt.timedelta(days=1)


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def _days(count: int, **fields) -> None:
    for n in range(count):
        DailySalesFactory(day=dt.date(2026, 1, 1) + n * D, **fields)


def _all_pages(client, url: str, **params) -> list[dict]:
    rows, response = [], client.get(url, params)
    while True:
        assert response.status_code == 200, response.json()
        rows.extend(response.json()["results"])
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


@pytest.fixture
def shop():
    """Three days of sales: USD on the 21st and 22nd (one refunded the day after, one shipped for
    4.90 with 2.00 off and 3.00 tax), EUR and JPY on the 21st."""
    a = OrderStory.new(total=Decimal("40.00"), shipping_total=Decimal("4.90"), discount_total=Decimal("2.00"),
                       tax_total=Decimal("3.00"), currency="USD")
    b = OrderStory.new(total=Decimal("60.00"), currency="USD")
    c = OrderStory.new(total=Decimal("15.50"), currency="EUR")
    d = OrderStory.new(total=Decimal("1200"), currency="JPY")
    e = OrderStory.new(total=Decimal("25.00"), currency="USD")
    for event in (a.place(T0), a.pay(T0), a.ship(T0 + D / 2), a.refund("10.00", T0 + D),
                  b.place(T0 + D), c.place(T0), d.place(T0), e.place(T0 + 2 * D), e.cancel(T0 + 2 * D)):
        reporting_event_apply(event)
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_staff_read_daily_sales_of_a_date_range_in_one_currency(staff_client, shop):
    response = staff_client.get(DAILY, {"from": "2026-11-21", "to": "2026-11-22", "currency": "usd"})

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"day": "2026-11-21", "currency": "USD", "orders": 1, "gross": "40.00", "shipping": "4.90", "discount": "2.00",
         "tax": "3.00", "refunds": "0.00", "net": "40.00"},
        {"day": "2026-11-22", "currency": "USD", "orders": 1, "gross": "60.00", "shipping": "0.00", "discount": "0.00",
         "tax": "0.00", "refunds": "10.00", "net": "50.00"},
    ]


def test_daily_sales_show_each_currency_in_its_own_minor_unit(staff_client, shop):
    rows = staff_client.get(DAILY, {"from": "2026-11-21", "to": "2026-11-21"}).json()["results"]

    assert {(row["currency"], row["gross"]) for row in rows} == {("USD", "40.00"), ("EUR", "15.50"), ("JPY", "1200")}


def test_staff_list_orders_by_status_and_placement_day(staff_client, shop):
    response = staff_client.get(ORDERS, {"status": "partially_refunded", "from": "2026-11-21", "to": "2026-11-21"})

    assert response.status_code == 200
    (row,) = response.json()["results"]
    a = shop["a"]
    assert row["order_id"] == str(a.order_id)
    assert (row["number"], row["customer_id"], row["status"]) == (a.placed.number, a.placed.customer_id,
                                                                   "partially_refunded")
    assert (row["total"], row["refunded_amount"], row["currency"]) == ("40.00", "10.00", "USD")
    assert (row["subtotal"], row["shipping_total"], row["discount_total"], row["tax_total"]) == (
        "34.10", "4.90", "2.00", "3.00")
    assert row["placed_at"].startswith("2026-11-21T09:00")
    assert row["shipped_at"].startswith("2026-11-21T21:00")


def test_orders_are_listed_newest_first(staff_client, shop):
    numbers = [row["number"] for row in _all_pages(staff_client, ORDERS)]

    assert numbers[:2] == [shop["e"].placed.number, shop["b"].placed.number]
    assert len(numbers) == 5


@pytest.mark.parametrize(("url", "params", "field"), [
    (DAILY, {"from": "2026-13-01"}, "from"),
    (DAILY, {"to": "yesterday"}, "to"),
    (DAILY, {"from": "2026-11-22", "to": "2026-11-21"}, "to"),
    (DAILY, {"currency": "XYZ"}, "currency"),
    (ORDERS, {"status": "lost"}, "status"),
    (ORDERS, {"from": "21/11/2026"}, "from"),
    (DAILY_CSV, {"from": "2026-02-30"}, "from"),
    (ORDERS_CSV, {"status": "lost"}, "status"),
])
def test_bad_query_parameters_answer_400_naming_the_field(staff_client, url, params, field):
    # A CSV client asks for CSV, and still gets its error as a problem
    accept = "text/csv" if url.endswith(".csv") else "application/json"
    response = staff_client.get(url, params, HTTP_ACCEPT=accept)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert [error["field"] for error in body["errors"]] == [field]


@pytest.mark.parametrize("url", [DAILY, ORDERS, DAILY_CSV, ORDERS_CSV])
def test_reports_are_for_staff_only(api_client, customer_client, url):
    assert api_client.get(url).status_code == 401
    response = customer_client.get(url)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_daily_sales_pages_follow_the_cursor_without_gaps_or_repeats(staff_client):
    _days(7)

    rows = _all_pages(staff_client, DAILY, page_size=3)

    assert [row["day"] for row in rows] == [f"2026-01-0{n}" for n in range(1, 8)]


def test_order_pages_follow_the_cursor_without_gaps_or_repeats(staff_client):
    stories = [OrderStory.new() for _ in range(7)]
    for i, story in enumerate(stories):
        reporting_event_apply(story.place(T0 + i * dt.timedelta(minutes=5)))

    rows = _all_pages(staff_client, ORDERS, page_size=2)

    assert [row["number"] for row in rows] == [story.placed.number for story in reversed(stories)]


def test_daily_sales_export_streams_every_matching_row_as_csv(staff_client, settings):
    settings.REPORTING_EXPORT_BATCH_SIZE = 2  # several batches
    _days(5)
    DailySalesFactory(day=dt.date(2026, 1, 3), currency="EUR", gross=Decimal("7.5"), refunds=Decimal(0),
                      discount=Decimal("1.25"), tax=Decimal("0.6"))

    response = staff_client.get(DAILY_CSV, {"to": "2026-01-04"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="daily-sales.csv"'
    rows = _csv(response)
    assert [(row["day"], row["currency"]) for row in rows] == [
        ("2026-01-01", "USD"), ("2026-01-02", "USD"), ("2026-01-03", "EUR"), ("2026-01-03", "USD"),
        ("2026-01-04", "USD")]
    assert rows[2] == {"day": "2026-01-03", "currency": "EUR", "orders": "2", "gross": "7.50", "shipping": "0.00",
                       "discount": "1.25", "tax": "0.60", "refunds": "0.00", "net": "7.50"}


def test_orders_export_streams_every_matching_order_as_csv(staff_client, settings, shop):
    settings.REPORTING_EXPORT_BATCH_SIZE = 1

    response = staff_client.get(ORDERS_CSV, {"from": "2026-11-21", "to": "2026-11-22"}, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    rows = _csv(response)
    assert sorted(row["number"] for row in rows) == sorted(shop[k].placed.number for k in "abcd")
    assert [row["placed_at"] for row in rows] == sorted(row["placed_at"] for row in rows)
    refunded = next(row for row in rows if row["number"] == shop["a"].placed.number)
    assert (refunded["status"], refunded["total"], refunded["refunded_amount"], refunded["cancelled_at"]) == (
        "partially_refunded", "40.00", "10.00", "")
