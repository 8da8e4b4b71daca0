"""Concurrent operations on one payment, with real threads against PostgreSQL: the row lock
and the amounts held by operations in flight decide, never a lucky interleaving."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from apps.common.models import OutboxEvent
from apps.payments import api
from apps.payments.models import Payment, PaymentTransaction
from apps.payments.providers.sandbox import sandbox_calls
from tests.payments.conftest import authorize


def _race(calls):
    """Run the calls at the same moment; returns what each returned or raised."""
    start = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            start.wait(timeout=10)
            outcomes[index] = call()
        except (api.PaymentNotAllowed, api.PaymentProviderUnavailable, api.PaymentDeclined) as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _succeeded(outcomes):
    return [o for o in outcomes if isinstance(o, api.PaymentInfo)]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_captures_capture_once():
    info = authorize(amount="100.00")
    outcomes = _race([lambda k=k: api.payment_capture(payment_id=info.payment_id, idempotency_key=k)
                      for k in ("ship-a", "ship-b")])
    assert len(_succeeded(outcomes)) == 1
    assert sum(isinstance(o, api.PaymentNotAllowed) for o in outcomes) == 1
    payment = Payment.objects.get(pk=info.payment_id)
    assert (payment.status, payment.amount_captured) == ("captured", Decimal("100.00"))
    assert OutboxEvent.objects.filter(event_type="payments.payment_captured").count() == 1
    assert sandbox_calls("capture:ship-a") + sandbox_calls("capture:ship-b") == 1


@pytest.mark.django_db(transaction=True)
def test_a_capture_racing_one_still_at_the_processor_is_refused(processor):
    info = authorize(amount="100.00")
    at_processor = threading.Event()
    release = threading.Event()

    def hold(operation, key):
        if operation == "capture":
            at_processor.set()
            release.wait(timeout=10)

    processor.before_answer = hold
    first = []
    worker = threading.Thread(target=lambda: (first.append(api.payment_capture(
        payment_id=info.payment_id, idempotency_key="ship-a")), connections.close_all()))
    worker.start()
    assert at_processor.wait(timeout=10)
    with pytest.raises(api.PaymentNotAllowed, match=r"At most 0\.00 EUR"):
        api.payment_capture(payment_id=info.payment_id, idempotency_key="ship-b")
    release.set()
    worker.join()
    assert first[0].amount_captured == Decimal("100.00")
    assert processor.calls["capture:ship-b"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_call_is_at_the_processor_is_told_to_wait(processor):
    info = authorize(amount="100.00")
    at_processor, release = threading.Event(), threading.Event()

    def hold(operation, key):
        if operation == "capture":
            at_processor.set()
            release.wait(timeout=10)

    processor.before_answer = hold
    first = []
    worker = threading.Thread(target=lambda: (first.append(api.payment_capture(
        payment_id=info.payment_id, idempotency_key="ship")), connections.close_all()))
    worker.start()
    assert at_processor.wait(timeout=10)
    with pytest.raises(api.PaymentProviderUnavailable) as wait:
        api.payment_capture(payment_id=info.payment_id, idempotency_key="ship")
    assert (wait.value.extra["outcome"], wait.value.headers["Retry-After"]) == ("in_progress", "1")
    release.set()
    worker.join()
    assert api.payment_capture(payment_id=info.payment_id, idempotency_key="ship") == first[0]
    assert processor.calls["capture:ship"] == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_capture_sent_twice_at_once_reaches_the_provider_once():
    info = authorize(amount="100.00")
    outcomes = _race([lambda: api.payment_capture(payment_id=info.payment_id, idempotency_key="ship")] * 2)
    assert len(_succeeded(outcomes)) >= 1
    # The loser either saw the winner's recorded answer or was told it is still in progress.
    assert all(o == _succeeded(outcomes)[0] or isinstance(o, api.PaymentProviderUnavailable) for o in outcomes)
    assert sandbox_calls("capture:ship") == 1
    assert Payment.objects.get(pk=info.payment_id).amount_captured == Decimal("100.00")


@pytest.mark.django_db(transaction=True)
def test_concurrent_partial_captures_never_exceed_the_authorization():
    info = authorize(amount="100.00")
    outcomes = _race([lambda k=k: api.payment_capture(payment_id=info.payment_id, amount=Decimal("40.00"),
                                                      idempotency_key=k) for k in ("a", "b", "c")])
    assert len(_succeeded(outcomes)) == 2
    payment = Payment.objects.get(pk=info.payment_id)
    assert (payment.status, payment.amount_captured) == ("partially_captured", Decimal("80.00"))


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_exceed_what_was_captured():
    info = authorize(amount="100.00")
    api.payment_capture(payment_id=info.payment_id, idempotency_key="cap")
    outcomes = _race([lambda k=k: api.payment_refund(payment_id=info.payment_id, amount=Decimal("60.00"),
                                                     idempotency_key=k) for k in ("r1", "r2", "r3")])
    assert len(_succeeded(outcomes)) == 1
    assert Payment.objects.get(pk=info.payment_id).amount_refunded == Decimal("60.00")


@pytest.mark.django_db(transaction=True)
def test_a_void_racing_a_capture_leaves_one_consistent_outcome():
    info = authorize(amount="100.00")
    outcomes = _race([lambda: api.payment_capture(payment_id=info.payment_id, idempotency_key="cap"),
                      lambda: api.payment_void(payment_id=info.payment_id, idempotency_key="void")])
    assert len(_succeeded(outcomes)) == 1
    payment = Payment.objects.get(pk=info.payment_id)
    assert (payment.status, payment.amount_captured) in {("voided", Decimal(0)), ("captured", Decimal("100.00"))}
    assert PaymentTransaction.objects.filter(payment=payment, outcome="succeeded").count() == 2  # authorize + winner
