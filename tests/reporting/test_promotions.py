"""Discounts and tax in the reports (issue #18): daily sales gain the discount given and the tax
collected; the promotion report says what each promotion gave (from the orders' events, in any
order); the voucher report how each code's uses stand (from the pricing ledger)."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from apps.common.messaging.schemas import validate_event_data
from apps.pricing import api as pricing_api
from apps.reporting.models import DailySales, OrderDiscount
from apps.reporting.services.consumer import reporting_event_apply
from tests.conftest import client_of
from tests.pricing.factories import PromotionFactory, VoucherFactory
from tests.reporting.factories import T0, OrderStory

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])

H = dt.timedelta(hours=1)
PROMOTIONS = "/api/v1/reports/promotions/"
VOUCHERS = "/api/v1/reports/vouchers/"


def discount_line(promotion_id, name, amount, code=None, allocations=()):
    return {"promotion_id": promotion_id, "promotion_name": name, "kind": "percentage", "voucher_code": code,
            "amount": amount, "allocations": [{"key": key, "amount": share} for key, share in allocations]}


def discounted(total, discount, tax, *lines, currency="EUR"):
    """An order of `total` with `discount` off (its discount lines) and `tax` collected."""
    return OrderStory.new(currency=currency, total=Decimal(total), discount_total=Decimal(discount),
                          tax_total=Decimal(tax), discount_lines=list(lines))


def apply_all(*events):
    for event in events:
        validate_event_data(event["type"], event["version"], event["data"])
        reporting_event_apply(event)


def test_daily_sales_show_the_discount_given_and_the_tax_collected_of_orders_not_cancelled():
    welcome = discount_line(7, "Welcome", "4.40", "WELCOME10", [("LAMP", "2.00"), ("BOOK", "2.40")])
    a = discounted("50.35", "4.40", "5.86", welcome)
    b = discounted("23.80", "0.00", "3.80")
    cancelled = discounted("10.00", "1.00", "1.60", discount_line(7, "Welcome", "1.00", "WELCOME10"))

    apply_all(a.place(T0), b.place(T0 + H), cancelled.place(T0), cancelled.cancel(T0 + H))

    row = DailySales.objects.get(key=DailySales.key_for(T0.date(), "EUR"))
    assert (row.orders, row.gross, row.discount, row.tax) == (2, Decimal("74.15"), Decimal("4.40"), Decimal("9.66"))


def test_the_promotion_report_counts_orders_and_discount_per_promotion_and_currency(staff_client):
    welcome = discount_line(7, "Welcome", "4.40", "WELCOME10")
    summer = discount_line(9, "Summer sale", "3.00")
    apply_all(discounted("50.35", "7.40", "5.86", welcome, summer).place(T0),
              discounted("20.00", "2.00", "0.00", discount_line(7, "Welcome", "2.00", "WELCOME10")).place(T0 + H),
              discounted("30.00", "3.00", "0.00", discount_line(7, "Welcome", "3.00", "WELCOME10"),
                         currency="USD").place(T0),
              discounted("99.00", "0.00", "0.00").place(T0))

    response = staff_client.get(PROMOTIONS)

    assert response.status_code == 200
    assert response.json() == [
        {"promotion_id": 7, "promotion_name": "Welcome", "currency": "EUR", "orders": 2, "by_code": 2,
         "discount": "6.40"},
        {"promotion_id": 7, "promotion_name": "Welcome", "currency": "USD", "orders": 1, "by_code": 1,
         "discount": "3.00"},
        {"promotion_id": 9, "promotion_name": "Summer sale", "currency": "EUR", "orders": 1, "by_code": 0,
         "discount": "3.00"},
    ]
    assert staff_client.get(PROMOTIONS, {"currency": "usd"}).json()[0]["orders"] == 1
    assert staff_client.get(PROMOTIONS, {"from": "2026-11-22"}).json() == []


def test_an_order_cancelled_before_its_placement_event_arrives_is_not_counted(staff_client):
    story = discounted("20.00", "2.00", "0.00", discount_line(7, "Welcome", "2.00", "WELCOME10"))

    apply_all(story.cancel(T0 + H), story.place(T0))  # the cancellation overtook the placement
    apply_all(story.place(T0))  # and the placement is delivered twice

    assert staff_client.get(PROMOTIONS).json() == []
    assert OrderDiscount.objects.get().cancelled is True


def test_order_events_from_before_discount_lines_are_reported_without_promotion_rows():
    story = discounted("20.00", "2.00", "1.00")
    event = story.place(T0)
    for field in ("prices_include_tax", "tax_lines", "discount_lines", "voucher_codes", "zero_rated"):
        del event["data"][field]  # as producers wrote version 2 before issue #18

    apply_all(event)

    row = DailySales.objects.get(key=DailySales.key_for(T0.date(), "EUR"))
    assert (row.discount, row.tax) == (Decimal("2.00"), Decimal("1.00"))
    assert OrderDiscount.objects.count() == 0


def test_the_voucher_report_shows_each_codes_limits_and_uses(staff_client):
    welcome = PromotionFactory(name="Welcome")
    VoucherFactory(code="WELCOME10", promotion=welcome, usage_limit=100, usage_limit_per_customer=1)
    VoucherFactory(code="VIP", promotion=PromotionFactory(name="VIP"))
    placed, failed, pending = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for order_id, email in ((placed, "a@example.com"), (failed, "b@example.com"), (pending, "c@example.com")):
        pricing_api.voucher_use_reserve(code="WELCOME10", order_id=order_id, customer_id=None, email=email)
    pricing_api.voucher_use_confirm(order_id=placed)
    pricing_api.voucher_use_release(order_id=failed)

    rows = staff_client.get(VOUCHERS).json()

    assert [row["code"] for row in rows] == ["WELCOME10", "VIP"]
    assert rows[0] == {"code": "WELCOME10", "promotion_id": welcome.pk, "promotion_name": "Welcome",
                       "usage_limit": 100, "usage_limit_per_customer": 1, "used": 2, "reserved": 1, "confirmed": 1,
                       "released": 1, "remaining": 98}
    assert (rows[1]["used"], rows[1]["remaining"]) == (0, None)
    assert [row["code"] for row in staff_client.get(VOUCHERS, {"promotion_id": welcome.pk}).json()] == ["WELCOME10"]


@pytest.mark.parametrize("url", [PROMOTIONS, VOUCHERS])
def test_the_promotion_and_voucher_reports_need_the_reports_permission(api_client, customer_client, staff_with, url):
    assert api_client.get(url).status_code == 401
    assert customer_client.get(url).status_code == 403
    assert client_of(staff_with("orders.view_order")).get(url).status_code == 403
    assert client_of(staff_with("reporting.view_reports")).get(url).status_code == 200
