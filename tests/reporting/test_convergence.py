"""Out of order and duplicated: any delivery of an event stream converges to the in-order projection."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.reporting.models import DailySales, OrderReport
from apps.reporting.services.consumer import reporting_event_apply
from tests.reporting.conftest import projection_snapshot
from tests.reporting.factories import T0, OrderStory

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])

# What can happen to an order after it is placed (the orders status machine allows no more).
LIVES = ["placed", "paid", "shipped", "partially_refunded", "refunded", "cancelled", "paid_then_cancelled"]


@st.composite
def order_lives(draw):
    """One order's events in the order they happened, and what a report must end up saying."""
    currency = draw(st.sampled_from(["USD", "EUR"]))
    total = Decimal(draw(st.integers(min_value=100, max_value=99_999))) / 100
    life = draw(st.sampled_from(LIVES))
    story = OrderStory.new(total=total, currency=currency)
    at = T0 + dt.timedelta(days=draw(st.integers(0, 2)), minutes=draw(st.integers(0, 600)))
    step = dt.timedelta(hours=draw(st.integers(1, 30)))  # later steps may fall on later days
    events = [story.place(at)]
    if life in ("paid", "shipped", "partially_refunded", "refunded", "paid_then_cancelled"):
        events.append(story.pay(at + step))
    if life in ("shipped", "partially_refunded", "refunded"):
        events.append(story.ship(at + 2 * step))
    if life in ("cancelled", "paid_then_cancelled"):
        events.append(story.cancel(at + 2 * step))
    if life in ("partially_refunded", "refunded"):
        part = (total * draw(st.integers(1, 99)) / 100).quantize(Decimal("0.01"))
        events.append(story.refund(part, at + 3 * step))
        if life == "refunded":
            events.append(story.refund(total - part, at + 4 * step))
    return story, life, events


def _apply_and_snapshot(stream: list[dict]) -> dict:
    # Each run happens in a transaction that is rolled back: the next run starts empty.
    with transaction.atomic(using="reporting"):
        for event in stream:
            reporting_event_apply(event)
        snapshot = projection_snapshot()
        transaction.set_rollback(True, using="reporting")
    return snapshot


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_shuffled_and_duplicated_streams_converge_to_the_in_order_projection(data):
    # Given a few orders' lives, as their events happened
    lives = data.draw(st.lists(order_lives(), min_size=1, max_size=4), label="orders")
    in_order = sorted((event for _, _, events in lives for event in events), key=lambda e: e["occurred_at"])
    # ... and the same events delivered in any order, some of them more than once
    duplicates = data.draw(st.lists(st.sampled_from(in_order), max_size=len(in_order)), label="duplicates")
    delivered = data.draw(st.permutations(in_order + duplicates), label="delivery")

    # When each stream is applied to empty projections
    expected = _apply_and_snapshot(in_order)
    actual = _apply_and_snapshot(delivered)

    # Then both end the same, row for row
    assert actual == expected
    # And the in-order projection says what happened to each order
    statuses = {row["order_id"]: row["status"] for row in expected["orders"]}
    for story, life, _ in lives:
        assert statuses[story.order_id] == {"placed": "confirmed", "paid": "confirmed",
                                            "paid_then_cancelled": "cancelled"}.get(life, life)
    sold = [story.placed.total for story, life, _ in lives if "cancelled" not in life]
    refunded = [story.refunded_total for story, _, _ in lives]
    assert sum(row["gross"] for row in expected["daily_sales"]) == sum(sold)
    assert sum(row["refunds"] for row in expected["daily_sales"]) == sum(refunded)
    assert OrderReport.objects.count() == DailySales.objects.count() == 0  # rolled back for the next example
