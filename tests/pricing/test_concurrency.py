"""Voucher limits under real concurrency: threads with their own PostgreSQL connections, released
together, no lock of the test's own. The conditional update and the ledger decide."""

import uuid
from datetime import UTC, datetime

import pytest

from apps.pricing import api as pricing
from apps.pricing.models import Voucher, VoucherUse
from tests.concurrency import race as concurrent_race
from tests.pricing.factories import VoucherFactory

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def race(count, work):
    """Threads released together; a voucher error is that thread's answer."""
    return concurrent_race(count, work, expected=(pricing.VoucherError,))


def reserve(code, order_id, customer_id, email=""):
    return pricing.voucher_use_reserve(code=code, order_id=order_id, customer_id=customer_id, email=email, now=NOW)


def test_fifty_completions_racing_for_ten_uses_give_exactly_ten_and_a_clear_error_to_the_rest():
    VoucherFactory(code="HOT", usage_limit=10)
    orders = [uuid.uuid4() for _ in range(50)]

    outcomes = race(50, lambda i: reserve("HOT", orders[i], customer_id=i))

    won = [outcome for outcome in outcomes if isinstance(outcome, pricing.VoucherUseInfo)]
    lost = [outcome for outcome in outcomes if not isinstance(outcome, pricing.VoucherUseInfo)]
    assert len(won) == 10
    assert {error.code for error in lost} == {"voucher_exhausted"} and len(lost) == 40
    assert Voucher.objects.get(code="HOT").used == 10
    assert set(VoucherUse.objects.values_list("order_id", flat=True)) == {use.order_id for use in won}


def test_one_customer_racing_with_many_orders_gets_the_per_customer_limit_only():
    VoucherFactory(code="WELCOME", usage_limit_per_customer=2)

    outcomes = race(20, lambda i: reserve("WELCOME", uuid.uuid4(), customer_id=42, email="pat@example.com"))

    assert sum(isinstance(outcome, pricing.VoucherUseInfo) for outcome in outcomes) == 2
    assert {outcome.code for outcome in outcomes if isinstance(outcome, pricing.VoucherError)} == {
        "voucher_customer_limit"}
    assert Voucher.objects.get(code="WELCOME").used == 2


def test_the_same_order_reserving_from_many_threads_holds_one_use():
    VoucherFactory(code="ONE", usage_limit=5)
    order = uuid.uuid4()

    outcomes = race(20, lambda i: reserve("ONE", order, customer_id=1))

    assert all(isinstance(outcome, pricing.VoucherUseInfo) and outcome.order_id == order for outcome in outcomes)
    assert VoucherUse.objects.count() == 1
    assert Voucher.objects.get(code="ONE").used == 1


def test_releasing_an_order_from_many_threads_gives_its_use_back_once():
    VoucherFactory(code="BACK", usage_limit=3)
    order = uuid.uuid4()
    for other in (uuid.uuid4(), uuid.uuid4()):
        reserve("BACK", other, customer_id=2)
    reserve("BACK", order, customer_id=1)

    given_back = race(20, lambda i: pricing.voucher_use_release(order_id=order))

    assert sorted(given_back) == [0] * 19 + [1]
    assert Voucher.objects.get(code="BACK").used == 2
    assert pricing.voucher_uses_of_order(order_id=order)[0].status is pricing.VoucherUseStatus.RELEASED
