"""The http adapter against a fake processor on loopback: real sockets, real timeouts."""

import json
import socket
import uuid
from decimal import Decimal

import pytest

from apps.payments import api
from apps.payments.models import Payment, PaymentTransaction
from apps.payments.services.reconciliation import payments_reconcile
from tests.payments.conftest import PROCESSOR_SECRET, authorize


@pytest.mark.django_db
def test_authorize_sends_the_secret_our_idempotency_key_and_decimal_strings(processor):
    info = authorize(amount="49.90", key="order-1-authorize")
    assert (info.status, info.provider) == ("authorized", "http")
    (request,) = processor.requests
    assert request["method"] == "POST"
    assert request["path"] == "/v1/authorizations"
    assert request["headers"]["Authorization"] == f"Bearer {PROCESSOR_SECRET}"
    assert request["headers"]["Idempotency-Key"] == "authorize:order-1-authorize"
    assert json.loads(request["body"]) == {"amount": "49.90", "currency": "EUR", "token": "tok_approved"}
    assert Payment.objects.get(pk=info.payment_id).provider_reference.startswith("auth_")


@pytest.mark.django_db
def test_every_operation_carries_its_own_idempotency_key(processor):
    info = authorize(amount="30.00")
    api.payment_capture(payment_id=info.payment_id, amount=Decimal("10.00"), idempotency_key="cap-a")
    api.payment_void(payment_id=info.payment_id, idempotency_key="void-a")
    api.payment_refund(payment_id=info.payment_id, amount=Decimal("4.00"), idempotency_key="ref-a")
    keys = [r["headers"]["Idempotency-Key"] for r in processor.requests[1:]]
    assert keys == ["capture:cap-a", "void:void-a", "refund:ref-a"]
    assert all(r["headers"]["Authorization"] == f"Bearer {PROCESSOR_SECRET}" for r in processor.requests)
    assert api.payment_for_order(order_id=info.order_id).amount_refunded == Decimal("4.00")


@pytest.mark.django_db
def test_a_replayed_operation_makes_no_second_call_to_the_processor(processor):
    first = authorize(key="order-2-authorize", order_id=(order_id := uuid.uuid4()))
    captured = api.payment_capture(payment_id=first.payment_id, idempotency_key="order-2-capture")
    assert authorize(key="order-2-authorize", order_id=order_id) == first
    assert api.payment_capture(payment_id=first.payment_id, idempotency_key="order-2-capture") == captured
    assert processor.calls["authorize:order-2-authorize"] == 1
    assert processor.calls["capture:order-2-capture"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("token", "code"), [("tok_declined", "card_declined"),
                                             ("tok_insufficient_funds", "insufficient_funds")])
def test_a_402_is_a_typed_decline(processor, token, code):
    with pytest.raises(api.PaymentDeclined) as declined:
        authorize(token=token)
    assert declined.value.extra["decline_code"] == code
    assert Payment.objects.get().status == "failed"


@pytest.mark.django_db
def test_a_processing_error_is_a_typed_unavailability(processor):
    with pytest.raises(api.PaymentProviderUnavailable) as unavailable:
        authorize(token="tok_processing_error")
    assert unavailable.value.extra["failure_code"] == "processing_error"
    assert Payment.objects.get().status == "failed"


@pytest.mark.django_db
def test_a_read_timeout_leaves_the_payment_pending_and_reconciliation_learns_it_was_authorized(processor, settings):
    order_id = uuid.uuid4()
    with pytest.raises(api.PaymentProviderUnavailable) as unavailable:
        authorize(token="tok_slow", order_id=order_id, key="order-3-authorize")
    assert unavailable.value.extra["outcome"] == "unknown"
    assert api.payment_for_order(order_id=order_id).status == "pending"
    assert len(processor.authorizations) == 1  # the processor did authorize: only the answer was late

    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    assert payments_reconcile() == 1
    info = api.payment_for_order(order_id=order_id)
    assert (info.status, info.amount_authorized) == ("authorized", Decimal("100.00"))
    tx = PaymentTransaction.objects.get(idempotency_key="order-3-authorize")
    assert (tx.resolved_by, tx.status_before, tx.status_after) == ("reconciliation", "pending", "authorized")
    assert [r["method"] for r in processor.requests] == ["POST", "GET"]
    assert processor.requests[1]["path"] == "/v1/operations/authorize%3Aorder-3-authorize"
    # The caller's retry with its key now gets the reconciled answer, with no new authorization.
    assert authorize(token="tok_slow", order_id=order_id, key="order-3-authorize") == info
    assert processor.calls["authorize:order-3-authorize"] == 2  # the POST and the lookup


@pytest.mark.django_db
def test_a_500_answer_is_an_unknown_outcome_not_a_failure(processor, settings):
    order_id = uuid.uuid4()
    with pytest.raises(api.PaymentProviderUnavailable):
        authorize(token="tok_500", order_id=order_id)
    assert api.payment_for_order(order_id=order_id).status == "pending"
    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    payments_reconcile()
    assert api.payment_for_order(order_id=order_id).status == "authorized"


@pytest.mark.django_db
def test_a_refused_connection_means_nothing_was_charged(settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.PAYMENTS_PROVIDERS = {"card": "http"}
    settings.PAYMENTS_HTTP_BASE_URL = f"http://127.0.0.1:{port}/v1"
    settings.PAYMENTS_HTTP_SECRET = PROCESSOR_SECRET
    order_id = uuid.uuid4()
    with pytest.raises(api.PaymentProviderUnavailable) as unavailable:
        authorize(order_id=order_id)
    assert unavailable.value.extra["failure_code"] == "not_reached"
    assert api.payment_for_order(order_id=order_id).status == "failed"
    assert not PaymentTransaction.objects.filter(outcome="pending").exists()  # nothing left to reconcile


@pytest.mark.django_db
def test_a_capture_that_times_out_holds_its_amount_until_reconciled(processor, settings):
    info = authorize(amount="100.00")
    processor.slow_operations = {"capture"}
    with pytest.raises(api.PaymentProviderUnavailable):
        api.payment_capture(payment_id=info.payment_id, idempotency_key="ship-1")
    processor.slow_operations = set()
    # While its outcome is unknown, the amount cannot be captured a second time.
    with pytest.raises(api.PaymentNotAllowed, match=r"At most 0\.00 EUR"):
        api.payment_capture(payment_id=info.payment_id, idempotency_key="ship-2")
    assert api.payment_for_order(order_id=info.order_id).status == "authorized"

    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    payments_reconcile()
    after = api.payment_for_order(order_id=info.order_id)
    assert (after.status, after.amount_captured) == ("captured", Decimal("100.00"))
    assert [auth["captured"] for auth in processor.authorizations.values()] == [Decimal("100.00")]


@pytest.mark.django_db
def test_a_wrong_secret_is_refused_by_the_processor_and_charges_nothing(processor, settings):
    settings.PAYMENTS_HTTP_SECRET = "sk_wrong"
    with pytest.raises(api.PaymentDeclined) as declined:
        authorize()
    assert declined.value.extra["decline_code"] == "request_refused"
    assert processor.authorizations == {}


@pytest.mark.django_db
def test_a_misconfigured_http_provider_is_unavailable_not_a_crash(settings):
    settings.PAYMENTS_PROVIDERS = {"card": "http"}
    settings.PAYMENTS_HTTP_BASE_URL = ""
    with pytest.raises(api.PaymentProviderUnavailable, match="not configured"):
        authorize()
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_the_provider_is_chosen_per_payment_method(processor, settings):
    settings.PAYMENTS_PROVIDERS = {"card": "http", "wallet": "sandbox"}
    by_card = authorize()
    by_wallet = api.payment_authorize(order_id=uuid.uuid4(), amount=Decimal("5.00"), currency="EUR",
                                      token="tok_approved", idempotency_key="wallet-1", method="wallet")
    assert (by_card.provider, by_wallet.provider) == ("http", "sandbox")
    assert len(processor.requests) == 1
    # A payment keeps its provider even if the setting changes later.
    settings.PAYMENTS_PROVIDERS = {"card": "sandbox"}
    api.payment_capture(payment_id=by_card.payment_id, idempotency_key="cap")
    assert processor.requests[-1]["headers"]["Idempotency-Key"] == "capture:cap"
