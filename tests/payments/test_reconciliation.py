"""Outcomes left unknown by a timeout (or a crash) are learned from the provider, never guessed."""

import uuid

import pytest
from django.conf import settings as django_settings

from apps.common.models import OutboxEvent
from apps.payments import api
from apps.payments.breaker import CircuitBreaker
from apps.payments.models import Payment, PaymentTransaction
from apps.payments.providers.sandbox import SandboxProvider
from apps.payments.services.reconciliation import payment_transaction_reconcile, payments_reconcile
from apps.payments.tasks import payments_reconcile_task
from config.celery_app import app as celery_app
from tests.payments.conftest import authorize


def _timed_out(token, order_id=None):
    order_id = order_id or uuid.uuid4()
    with pytest.raises(api.PaymentProviderUnavailable) as unavailable:
        authorize(token=token, order_id=order_id, key=f"order:{order_id}:authorize")
    assert unavailable.value.extra["outcome"] == "unknown"
    return order_id


@pytest.mark.django_db
def test_a_timeout_leaves_the_payment_pending_and_a_retry_says_so():
    order_id = _timed_out("tok_timeout")
    assert api.payment_for_order(order_id=order_id).status == "pending"
    assert PaymentTransaction.objects.get().outcome == "pending"
    with pytest.raises(api.PaymentProviderUnavailable, match="not known yet"):
        authorize(token="tok_timeout", order_id=order_id, key=f"order:{order_id}:authorize")


@pytest.mark.django_db
def test_reconciliation_applies_what_the_provider_says(settings):
    order_id = _timed_out("tok_timeout")
    assert payments_reconcile() == 0  # too young: an answer could still be on its way
    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    assert payments_reconcile_task.delay().get() == 1
    info = api.payment_for_order(order_id=order_id)
    assert info.status == "authorized"
    assert OutboxEvent.objects.filter(event_type="payments.payment_authorized").count() == 1
    assert authorize(token="tok_timeout", order_id=order_id, key=f"order:{order_id}:authorize") == info


@pytest.mark.django_db
def test_never_received_is_believed_only_after_the_grace_period(settings):
    order_id = _timed_out("tok_timeout_lost")
    tx = PaymentTransaction.objects.get()
    assert payment_transaction_reconcile(transaction_id=tx.id).outcome == "pending"
    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    resolved = payment_transaction_reconcile(transaction_id=tx.id)
    assert (resolved.outcome, resolved.decline_code) == ("failed", "not_received")
    assert api.payment_for_order(order_id=order_id).status == "failed"
    assert OutboxEvent.objects.filter(event_type="payments.payment_failed").count() == 1


@pytest.mark.django_db
def test_reconciliation_waits_while_the_provider_is_down(settings):
    order_id = _timed_out("tok_timeout")
    for _ in range(settings.PAYMENTS_BREAKER_FAILURE_THRESHOLD):
        CircuitBreaker("sandbox").record_failure()
    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    assert payments_reconcile() == 0
    assert api.payment_for_order(order_id=order_id).status == "pending"


@pytest.mark.django_db(transaction=True)
def test_a_payment_cancelled_while_unknown_is_voided_once_reconciliation_learns_it_was_authorized(settings):
    # The orders saga: authorize timed out -> compensate -> cancel for the order.
    order_id = _timed_out("tok_timeout")
    api.payment_cancel_for_order(order_id=order_id)
    payment = Payment.objects.get(order_id=order_id)
    assert (payment.status, payment.cancel_requested) == ("pending", True)

    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    payments_reconcile()
    assert api.payment_for_order(order_id=order_id).status == "voided"
    assert [e.event_type for e in OutboxEvent.objects.order_by("occurred_at")] == [
        "payments.payment_authorized", "payments.payment_voided"]
    void = PaymentTransaction.objects.get(operation="void")
    assert SandboxProvider().lookup(idempotency_key=void.provider_key).outcome == "approved"


@pytest.mark.django_db(transaction=True)
def test_a_payment_cancelled_while_unknown_that_never_reached_the_provider_just_fails(settings):
    order_id = _timed_out("tok_timeout_lost")
    api.payment_cancel_for_order(order_id=order_id)
    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    payments_reconcile()
    assert api.payment_for_order(order_id=order_id).status == "failed"
    assert not PaymentTransaction.objects.filter(operation="void").exists()


@pytest.mark.django_db
def test_a_cancellation_the_provider_could_not_take_is_finished_by_the_sweep(settings):
    order_id = uuid.uuid4()
    authorize(order_id=order_id)
    for _ in range(settings.PAYMENTS_BREAKER_FAILURE_THRESHOLD):
        CircuitBreaker("sandbox").record_failure()
    api.payment_cancel_for_order(order_id=order_id)  # the compensation itself does not fail
    assert api.payment_for_order(order_id=order_id).status == "authorized"

    settings.PAYMENTS_BREAKER_RESET_SECONDS = 0  # the provider is back
    payments_reconcile()
    assert api.payment_for_order(order_id=order_id).status == "voided"


def test_reconciliation_is_scheduled_and_registered():
    entry = django_settings.CELERY_BEAT_SCHEDULE["payments-reconcile"]
    assert entry["task"] == "payments.reconcile"
    celery_app.loader.import_default_modules()
    assert {"payments.reconcile", "payments.reconcile_transaction", "payments.settle_cancelled"} <= set(
        celery_app.tasks)
