"""The projections, as staff would read them, after events arrive: in order, out of order, twice."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from apps.common.messaging.consumers import InvalidEvent
from apps.reporting import tasks as reporting_tasks
from apps.reporting.models import DailySales, InboxEvent, OrderRefund, OrderReport, PaymentReport
from apps.reporting.services.consumer import reporting_event_apply
from tests.reporting.factories import T0, OrderStory, PaymentStory

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])

DAY = T0.date()
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def daily(day: dt.date, currency: str = "USD") -> tuple:
    row = DailySales.objects.get(key=DailySales.key_for(day, currency))
    return row.orders, row.gross, row.refunds, row.net


def test_a_placed_paid_and_shipped_order_has_its_totals_and_times():
    # Given an order placed, paid and shipped
    story = OrderStory.new(total=Decimal("45.00"), currency="USD")

    # When its events arrive in order
    for event in (story.place(T0), story.pay(T0 + H), story.ship(T0 + 2 * H)):
        assert reporting_event_apply(event) is True

    # Then the order's row has its identity, totals and the time of each step
    report = OrderReport.objects.get(pk=story.order_id)
    assert (report.number, report.customer_id, report.currency) == (
        story.placed.number, story.placed.customer_id, "USD")
    assert report.status == "shipped"
    assert (report.subtotal, report.total, report.refunded_amount) == (Decimal("45"), Decimal("45"), Decimal(0))
    assert (report.placed_at, report.paid_at, report.shipped_at, report.cancelled_at) == (
        T0, T0 + H, T0 + 2 * H, None)
    assert report.payment_id == story.placed.payment_id
    # And the day's sales count it
    assert daily(DAY) == (1, Decimal("45.00"), Decimal(0), Decimal("45.00"))


def test_a_redelivered_event_is_applied_once():
    story = OrderStory.new(total=Decimal("45.00"))
    placed, refund = story.place(T0), story.refund("5.00", T0 + D)
    for event in (placed, refund):
        assert reporting_event_apply(event) is True

    # When the broker delivers both again
    assert reporting_event_apply(refund) is False
    assert reporting_event_apply(placed) is False

    # Then the refund counts once, on the order and on the day it happened
    assert OrderReport.objects.get(pk=story.order_id).refunded_amount == Decimal("5.00")
    assert daily(DAY + dt.timedelta(days=1)) == (0, Decimal(0), Decimal("5.00"), Decimal("-5.00"))
    assert InboxEvent.objects.count() == 2


def test_order_paid_before_order_placed_ends_like_the_ordered_stream():
    story = OrderStory.new(total=Decimal("30.00"))
    placed, paid = story.place(T0), story.pay(T0 + H)

    # When order_paid overtakes order_placed
    reporting_event_apply(paid)

    # Then the paid fact is kept, but nothing is counted as sold before the order is known placed ...
    early = OrderReport.objects.get(pk=story.order_id)
    assert (early.paid_at, early.placed_at) == (T0 + H, None)
    assert not DailySales.objects.exists()

    # ... and once order_placed is in too, the row is what the ordered stream gives
    reporting_event_apply(placed)
    report = OrderReport.objects.get(pk=story.order_id)
    assert (report.status, report.placed_at, report.paid_at, report.subtotal) == (
        "confirmed", T0, T0 + H, Decimal("30.00"))
    assert daily(DAY) == (1, Decimal("30.00"), Decimal(0), Decimal("30.00"))


def test_refunds_add_up_and_count_on_the_day_they_happen():
    # Given a shipped order of 100.00 placed on day 1
    story = OrderStory.new(total=Decimal("100.00"))
    for event in (story.place(T0), story.pay(T0 + H), story.ship(T0 + 2 * H)):
        reporting_event_apply(event)

    # When 30.00 is refunded on day 2, then the remaining 70.00 on day 3
    reporting_event_apply(story.refund("30.00", T0 + D))
    partially = OrderReport.objects.get(pk=story.order_id)
    reporting_event_apply(story.refund("70.00", T0 + 2 * D))

    # Then the order went partially refunded, then refunded
    assert (partially.status, partially.refunded_amount) == ("partially_refunded", Decimal("30.00"))
    report = OrderReport.objects.get(pk=story.order_id)
    assert (report.status, report.refunded_amount, report.refunded_at) == (
        "refunded", Decimal("100.00"), T0 + 2 * D)
    # And the sale stays on day 1 while each refund lands on its own day
    assert daily(DAY) == (1, Decimal("100.00"), Decimal(0), Decimal("100.00"))
    assert daily(DAY + dt.timedelta(days=1)) == (0, Decimal(0), Decimal("30.00"), Decimal("-30.00"))
    assert daily(DAY + dt.timedelta(days=2)) == (0, Decimal(0), Decimal("70.00"), Decimal("-70.00"))


def test_a_cancelled_order_is_not_a_sale():
    kept, cancelled = OrderStory.new(total=Decimal("10.00")), OrderStory.new(total=Decimal("25.00"))
    for event in (kept.place(T0), cancelled.place(T0 + H)):
        reporting_event_apply(event)
    assert daily(DAY) == (2, Decimal("35.00"), Decimal(0), Decimal("35.00"))

    # When the second order is cancelled the next day
    reporting_event_apply(cancelled.cancel(T0 + D))

    # Then its day no longer counts it
    assert daily(DAY) == (1, Decimal("10.00"), Decimal(0), Decimal("10.00"))
    report = OrderReport.objects.get(pk=cancelled.order_id)
    assert (report.status, report.cancelled_at) == ("cancelled", T0 + D)


def test_daily_sales_are_kept_per_currency():
    for total, currency in (("10.00", "USD"), ("20.00", "USD"), ("1200", "JPY"), ("7.50", "EUR")):
        reporting_event_apply(OrderStory.new(total=Decimal(total), currency=currency).place(T0))

    assert daily(DAY, "USD") == (2, Decimal("30.00"), Decimal(0), Decimal("30.00"))
    assert daily(DAY, "JPY") == (1, Decimal("1200"), Decimal(0), Decimal("1200"))
    assert daily(DAY, "EUR") == (1, Decimal("7.50"), Decimal(0), Decimal("7.50"))


def test_a_day_is_the_utc_day_the_order_was_placed():
    # 23:30 UTC on the 21st is the 22nd in Tokyo, but reports are by UTC day
    late = dt.datetime(2026, 11, 21, 23, 30, tzinfo=dt.UTC)
    tokyo = late.astimezone(dt.timezone(dt.timedelta(hours=9)))
    story = OrderStory.new(total=Decimal("10.00"))
    event = story.place(late)
    event["occurred_at"] = tokyo.isoformat()

    reporting_event_apply(event)

    assert OrderReport.objects.get(pk=story.order_id).placed_on == dt.date(2026, 11, 21)
    assert daily(dt.date(2026, 11, 21))[0] == 1


def test_a_payment_is_reported_from_its_events_in_any_order():
    payment = PaymentStory(amount="45.00")
    authorized, captured = payment.authorize(T0), payment.capture(T0 + H)
    refunded = payment.refund("15.00", T0 + D)

    # When the refund arrives first and the capture twice
    for event in (refunded, captured, authorized, captured):
        reporting_event_apply(event)

    # Then the payment shows its latest state and amounts
    row = PaymentReport.objects.get(pk=payment.payment_id)
    assert (row.order_id, row.currency, row.status) == (payment.order_id, "USD", "partially_refunded")
    assert (row.amount_authorized, row.amount_captured, row.amount_refunded) == (
        Decimal("45.00"), Decimal("45.00"), Decimal("15.00"))
    assert (row.authorized_at, row.captured_at, row.refunded_at) == (T0, T0 + H, T0 + D)


def test_a_declined_payment_does_not_invent_an_order():
    payment = PaymentStory()
    reporting_event_apply(payment.fail(T0))

    assert PaymentReport.objects.get(pk=payment.payment_id).status == "failed"
    assert not OrderReport.objects.exists()
    assert not DailySales.objects.exists()


def test_an_event_that_breaks_its_contract_is_refused_and_changes_nothing():
    story = OrderStory.new(total=Decimal("45.00"))
    broken = story.refund("5.00", T0)
    del broken["data"]["amount"]

    with pytest.raises(InvalidEvent, match="amount"):
        reporting_event_apply(broken)

    assert not InboxEvent.objects.exists()
    assert not OrderReport.objects.exists()
    assert not OrderRefund.objects.exists()


def test_a_malformed_envelope_is_refused():
    with pytest.raises(InvalidEvent):
        reporting_event_apply({"id": "not-a-uuid", "type": "orders.order_placed", "version": 1,
                               "occurred_at": T0.isoformat(), "data": {}})


def test_events_reporting_does_not_read_are_ignored():
    event = OrderStory.new().place(T0)
    event["type"] = "catalog.product_created"

    assert reporting_event_apply(event) is False
    assert not InboxEvent.objects.exists()
    assert not OrderReport.objects.exists()


def _run_in_threads(count: int, work) -> list:
    barrier, results, errors = threading.Barrier(count), [None] * count, []

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # surfaced below: a thread must not swallow it
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.mark.django_db(databases=["default", "reporting"], transaction=True)
def test_concurrent_deliveries_of_one_event_apply_it_once():
    # Given a placed order, and one refund delivered to four workers at once
    story = OrderStory.new(total=Decimal("45.00"))
    reporting_event_apply(story.place(T0))
    refund = story.refund("5.00", T0 + H)

    results = _run_in_threads(4, lambda _: reporting_event_apply(refund))

    # Then exactly one applied it, and the refund counts once
    assert sorted(results) == [False, False, False, True]
    assert OrderReport.objects.get(pk=story.order_id).refunded_amount == Decimal("5.00")
    assert daily(DAY) == (1, Decimal("45.00"), Decimal("5.00"), Decimal("40.00"))


@pytest.mark.django_db(databases=["default", "reporting"], transaction=True)
def test_concurrent_orders_of_one_day_are_all_counted():
    # Given six orders placed the same day, whose events workers apply at the same time
    stories = [OrderStory.new(total=Decimal(f"{10 + i}.00")) for i in range(6)]
    placed = [story.place(T0 + i * dt.timedelta(minutes=1)) for i, story in enumerate(stories)]

    _run_in_threads(6, lambda i: reporting_event_apply(placed[i]))

    # Then the day counts every one of them (no lost update)
    assert daily(DAY) == (6, Decimal("75.00"), Decimal(0), Decimal("75.00"))
    assert OrderReport.objects.count() == 6


def test_an_unknown_order_id_in_a_refund_still_counts_once_its_order_arrives():
    story = OrderStory.new(total=Decimal("20.00"))
    refund = story.refund("20.00", T0 + D)

    reporting_event_apply(refund)
    reporting_event_apply(story.place(T0))

    report = OrderReport.objects.get(pk=story.order_id)
    assert (report.status, report.refunded_amount) == ("refunded", Decimal("20.00"))
    assert daily(DAY) == (1, Decimal("20.00"), Decimal(0), Decimal("20.00"))
    assert daily(DAY + dt.timedelta(days=1)) == (0, Decimal(0), Decimal("20.00"), Decimal("-20.00"))


def test_an_event_redelivered_after_the_inbox_forgot_it_still_counts_once(settings):
    # Given a refund applied 40 days ago, and an inbox that keeps 30 days
    settings.EVENT_INBOX_RETENTION_DAYS = 30
    story = OrderStory.new(total=Decimal("45.00"))
    placed, refund = story.place(T0), story.refund("5.00", T0 + H)
    for event in (placed, refund):
        reporting_event_apply(event)
    InboxEvent.objects.update(applied_at=timezone.now() - dt.timedelta(days=40))

    # When the hourly purge runs, and then the broker redelivers the refund
    assert reporting_tasks.inbox_purge() == 2
    assert reporting_event_apply(refund) is True

    # Then the refund still counts once
    assert OrderReport.objects.get(pk=story.order_id).refunded_amount == Decimal("5.00")
    assert daily(DAY) == (1, Decimal("45.00"), Decimal("5.00"), Decimal("40.00"))


def test_the_inbox_keeps_what_is_younger_than_its_retention(settings):
    settings.EVENT_INBOX_RETENTION_DAYS = 30
    reporting_event_apply(OrderStory.new().place(T0))

    assert reporting_tasks.inbox_purge() == 0
    settings.EVENT_INBOX_RETENTION_DAYS = 0  # keep forever
    InboxEvent.objects.update(applied_at=timezone.now() - dt.timedelta(days=400))
    assert reporting_tasks.inbox_purge() == 0
    assert InboxEvent.objects.count() == 1
