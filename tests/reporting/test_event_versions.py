"""Consumer contracts of reporting for both versions of the order events: version 1 (orders
before shipping, still in queues and in the archive) and version 2 (shipping, the totals
breakdown, addresses, guest orders). Each envelope is checked against its published schema by
the consumer itself (reporting_event_apply), then projected."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.common.messaging.consumers import InvalidEvent
from apps.common.messaging.schemas import validate_event_data
from apps.reporting.models import DailySales, OrderReport
from apps.reporting.services.consumer import reporting_event_apply
from tests.reporting.factories import T0, OrderStory

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])

H = dt.timedelta(hours=1)
BERLIN = {"name": "Erika Mustermann", "company": "", "line1": "Heidestrasse 17", "line2": "", "city": "Berlin",
          "region": "", "postal_code": "10557", "country": "DE", "phone": ""}


def day_row(currency: str = "EUR") -> DailySales:
    return DailySales.objects.get(key=DailySales.key_for(T0.date(), currency))


def life(story: OrderStory) -> list[dict]:
    return [story.place(T0), story.pay(T0 + H), story.ship(T0 + 2 * H), story.refund("5.00", T0 + 3 * H)]


def test_version_2_events_of_a_guest_order_with_shipping_are_reported_with_their_shipping_revenue():
    # Given a guest's order of 39.00 + 4.90 shipping to Berlin, as the producers publish it now
    story = OrderStory.new(currency="EUR", customer_id=None, total=Decimal("43.90"), shipping_total=Decimal("4.90"),
                           shipping_method="Standard", shipping_method_id=7, shipping_address=BERLIN,
                           billing_address=BERLIN)
    events = life(story)
    for event in events:
        assert event["version"] == 2
        validate_event_data(event["type"], 2, event["data"])

    # When reporting consumes them
    for event in events:
        assert reporting_event_apply(event) is True

    # Then the order is reported with its shipping, as a guest's (no customer)
    report = OrderReport.objects.get(pk=story.order_id)
    assert (report.customer_id, report.subtotal, report.shipping_total, report.total) == (
        None, Decimal("39.00"), Decimal("4.90"), Decimal("43.90"))
    assert (report.status, report.refunded_amount) == ("partially_refunded", Decimal("5.00"))
    # and the day's sales show the shipping revenue within the gross
    row = day_row()
    assert (row.orders, row.gross, row.shipping, row.refunds, row.net) == (
        1, Decimal("43.90"), Decimal("4.90"), Decimal("5.00"), Decimal("38.90"))


def test_version_1_events_are_still_reported_with_no_shipping():
    # Given an order's events as published before version 2 (no shipping fields at all)
    story = OrderStory.new(version=1, currency="EUR", total=Decimal("45.00"))
    events = life(story)
    for event in events:
        assert event["version"] == 1 and "shipping_total" not in event["data"]
        validate_event_data(event["type"], 1, event["data"])

    # When reporting consumes them
    for event in events:
        assert reporting_event_apply(event) is True

    # Then they are reported as before, with no shipping revenue
    report = OrderReport.objects.get(pk=story.order_id)
    assert (report.customer_id, report.total, report.shipping_total) == (
        story.placed.customer_id, Decimal("45.00"), Decimal(0))
    row = day_row()
    assert (row.orders, row.gross, row.shipping, row.net) == (1, Decimal("45.00"), Decimal(0), Decimal("40.00"))


def test_a_day_with_orders_of_both_versions_adds_up():
    # Given one order published before version 2 and one after, on the same day
    old = OrderStory.new(version=1, currency="EUR", total=Decimal("20.00"))
    new = OrderStory.new(currency="EUR", total=Decimal("30.00"), shipping_total=Decimal("5.00"),
                         shipping_method="Standard", shipping_method_id=7, shipping_address=BERLIN,
                         billing_address=BERLIN)

    # When both arrive
    for event in (old.place(T0), new.place(T0 + H)):
        reporting_event_apply(event)

    # Then the day counts both, and only the new one's shipping
    row = day_row()
    assert (row.orders, row.gross, row.shipping) == (2, Decimal("50.00"), Decimal("5.00"))


def test_a_version_2_event_without_its_shipping_breaks_its_contract_and_changes_nothing():
    story = OrderStory.new(currency="EUR", total=Decimal("30.00"))
    event = story.place(T0)
    del event["data"]["shipping_total"]

    with pytest.raises(InvalidEvent, match="shipping_total"):
        reporting_event_apply(event)
    assert not OrderReport.objects.filter(pk=story.order_id).exists()
