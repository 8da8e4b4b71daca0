"""manage.py reporting_rebuild: the projections rebuilt from the outbox archive equal the live ones."""

import datetime as dt
import random
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from apps.common.models import OutboxEvent
from apps.reporting.models import DailySales, OrderReport
from apps.reporting.services.consumer import reporting_event_apply
from tests.reporting.conftest import projection_snapshot
from tests.reporting.factories import T0, OrderStory, PaymentStory

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])

H, D = dt.timedelta(hours=1), dt.timedelta(days=1)


def _archive(envelope: dict, *, published: bool) -> OutboxEvent:
    """The outbox row its producer wrote for this event."""
    return OutboxEvent.objects.create(
        id=envelope["id"], event_type=envelope["type"], version=envelope["version"],
        aggregate_id=envelope["aggregate_id"], occurred_at=dt.datetime.fromisoformat(envelope["occurred_at"]),
        data=envelope["data"], status=OutboxEvent.Status.PUBLISHED if published else OutboxEvent.Status.PENDING)


@pytest.fixture
def trading_history():
    """Three days of orders and payments in the outbox; the last few events not yet published."""
    a, b, c = (OrderStory.new(total=Decimal(t), currency=cur) for t, cur in (("80.00", "USD"), ("20.00", "USD"),
                                                                               ("9.90", "EUR")))
    pay = PaymentStory(order_id=a.order_id, amount="80.00")
    envelopes = [pay.authorize(T0), a.place(T0), b.place(T0 + H), c.place(T0 + 2 * H), pay.capture(T0 + D),
                 a.pay(T0 + D), a.ship(T0 + D), b.cancel(T0 + D + H), a.refund("30.00", T0 + 2 * D),
                 pay.refund("30.00", T0 + 2 * D), c.pay(T0 + 2 * D)]
    return [_archive(envelope, published=i < 9) for i, envelope in enumerate(envelopes)]


def test_a_rebuild_gives_the_projection_the_live_consumer_built(trading_history):
    # Given the live consumer got the archive's events out of order, some twice
    deliveries = [row.envelope() for row in trading_history]
    deliveries += random.Random(7).sample(deliveries, 4)
    random.Random(11).shuffle(deliveries)
    for envelope in deliveries:
        reporting_event_apply(envelope)
    live = projection_snapshot()
    # ... and the projections hold something no event supports (a bug, a hand edit)
    DailySales.objects.create(key="2020-01-01:USD", day=dt.date(2020, 1, 1), currency="USD", orders=5)
    OrderReport.objects.filter(pk=trading_history[1].aggregate_id).update(status="cancelled")

    # When staff rebuild the projections from the archive
    out = StringIO()
    call_command("reporting_rebuild", "--batch-size", "4", stdout=out)

    # Then the result is exactly what the live consumer had built
    assert projection_snapshot() == live
    assert "11 events replayed, 11 applied, 0 invalid" in out.getvalue()
    # And it says what happened, including the events not yet published
    assert OrderReport.objects.get(pk=trading_history[1].aggregate_id).status == "partially_refunded"
    assert OrderReport.objects.get(pk=trading_history[3].aggregate_id).paid_at == T0 + 2 * D


def test_events_the_rebuild_applied_are_skipped_when_the_consumer_gets_them(trading_history):
    call_command("reporting_rebuild", stdout=StringIO())
    rebuilt = projection_snapshot()

    # When the relay later publishes the pending events and the consumer receives them
    applied = [reporting_event_apply(row.envelope()) for row in trading_history if row.status == "pending"]

    assert applied == [False, False]
    assert projection_snapshot() == rebuilt


def test_events_of_other_modules_are_not_replayed(trading_history):
    foreign = OrderStory.new().place(T0)
    foreign["type"] = "catalog.product_created"
    _archive(foreign, published=True)

    out = StringIO()
    call_command("reporting_rebuild", stdout=out)

    assert "11 events replayed" in out.getvalue()
    assert not OrderReport.objects.filter(pk=foreign["aggregate_id"]).exists()


def test_an_event_breaking_its_contract_is_skipped_and_the_rest_rebuilt(trading_history):
    broken = OrderStory.new().place(T0 + D)
    del broken["data"]["total"]
    _archive(broken, published=True)

    out = StringIO()
    call_command("reporting_rebuild", stdout=out)

    assert "12 events replayed, 11 applied, 1 invalid (skipped)" in out.getvalue()
    assert OrderReport.objects.count() == 3
    assert not OrderReport.objects.filter(pk=broken["aggregate_id"]).exists()
