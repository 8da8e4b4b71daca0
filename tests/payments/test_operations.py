"""Authorize, capture, void and refund through the sandbox provider."""

import uuid
from decimal import Decimal

import pytest

from apps.common.models import OutboxEvent
from apps.payments import api
from apps.payments.models import Payment, PaymentTransaction, Refund
from apps.payments.providers.sandbox import sandbox_calls
from tests.payments.conftest import authorize

S = Payment.Status


@pytest.mark.django_db
def test_an_approved_authorization_holds_the_amount():
    order_id = uuid.uuid4()
    info = api.payment_authorize(order_id=order_id, amount=Decimal("49.90"), currency="EUR", token="tok_approved",
                                 idempotency_key="order-1-authorize")
    assert info.status == "authorized"
    assert (info.order_id, info.currency, info.provider) == (order_id, "EUR", "sandbox")
    assert (str(info.amount_authorized), str(info.amount_captured), str(info.amount_refunded)) == (
        "49.90", "0.00", "0.00")
    payment = Payment.objects.get(pk=info.payment_id)
    assert payment.provider_reference.startswith("sbx_auth_")
    (tx,) = payment.transactions.all()
    assert (tx.operation, tx.outcome, tx.status_before, tx.status_after) == ("authorize", "succeeded", "pending",
                                                                              "authorized")
    assert tx.raw_response["status"] == "approved"
    assert api.payment_for_order(order_id=order_id) == info


@pytest.mark.django_db
@pytest.mark.parametrize(("token", "code"), [("tok_declined", "card_declined"),
                                             ("tok_insufficient_funds", "insufficient_funds"),
                                             ("tok_not_a_real_token", "invalid_token")])
def test_declined_tokens_raise_payment_declined_and_fail_the_payment(token, code):
    order_id = uuid.uuid4()
    with pytest.raises(api.PaymentDeclined) as declined:
        authorize(token=token, order_id=order_id)
    assert declined.value.status == 402
    assert declined.value.extra["decline_code"] == code
    info = api.payment_for_order(order_id=order_id)
    assert info.status == "failed"
    assert info.amount_authorized == 0
    assert OutboxEvent.objects.get(aggregate_id=str(info.payment_id)).event_type == "payments.payment_failed"


@pytest.mark.django_db
def test_a_processing_error_is_a_retry_later_error_and_fails_the_payment():
    order_id = uuid.uuid4()
    with pytest.raises(api.PaymentProviderUnavailable) as unavailable:
        authorize(token="tok_processing_error", order_id=order_id)
    assert unavailable.value.status == 503
    assert "Retry-After" in unavailable.value.headers
    assert unavailable.value.extra["failure_code"] == "processing_error"
    assert api.payment_for_order(order_id=order_id).status == "failed"


@pytest.mark.django_db
def test_the_same_key_gives_the_same_result_without_a_second_provider_call():
    first = authorize(key="order-7-authorize", order_id=(order_id := uuid.uuid4()))
    again = authorize(key="order-7-authorize", order_id=order_id)
    assert again == first
    assert sandbox_calls("authorize:order-7-authorize") == 1
    assert Payment.objects.filter(order_id=order_id).count() == 1


@pytest.mark.django_db
def test_a_replayed_decline_is_declined_again_without_a_provider_call():
    order_id = uuid.uuid4()
    for _ in range(2):
        with pytest.raises(api.PaymentDeclined):
            authorize(token="tok_declined", key="order-8-authorize", order_id=order_id)
    assert sandbox_calls("authorize:order-8-authorize") == 1


@pytest.mark.django_db
def test_a_key_reused_for_another_amount_is_refused():
    order_id = uuid.uuid4()
    authorize(amount="10.00", key="order-9-authorize", order_id=order_id)
    with pytest.raises(api.PaymentIdempotencyKeyReused):
        authorize(amount="12.00", key="order-9-authorize", order_id=order_id)
    assert sandbox_calls("authorize:order-9-authorize") == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("amount", "currency"), [("10.001", "EUR"), ("100.5", "JPY"), ("0", "EUR"), ("-5", "EUR"),
                                                  ("10", "XXX")])
def test_amounts_must_fit_the_currency(amount, currency):
    with pytest.raises(api.PaymentRequestInvalid):
        authorize(amount=amount, currency=currency)
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_three_decimal_currencies_keep_their_minor_unit():
    info = authorize(amount="10.125", currency="KWD")
    captured = api.payment_capture(payment_id=info.payment_id, amount=Decimal("0.005"), idempotency_key="kwd-cap")
    assert captured.amount_captured == Decimal("0.005")
    assert str(captured.amount_authorized) == "10.125"


@pytest.mark.django_db
def test_an_unconfigured_payment_method_is_refused():
    with pytest.raises(api.PaymentRequestInvalid, match="bank_transfer"):
        api.payment_authorize(order_id=uuid.uuid4(), amount=Decimal("5.00"), currency="EUR", token="tok_approved",
                              idempotency_key="k", method="bank_transfer")


@pytest.mark.django_db
def test_partial_captures_up_to_the_authorized_amount():
    info = authorize(amount="100.00")
    partial = api.payment_capture(payment_id=info.payment_id, amount=Decimal("30.00"), idempotency_key="cap-1")
    assert (partial.status, partial.amount_captured) == ("partially_captured", Decimal("30.00"))
    with pytest.raises(api.PaymentNotAllowed, match=r"At most 70\.00 EUR"):
        api.payment_capture(payment_id=info.payment_id, amount=Decimal("70.01"), idempotency_key="cap-2")
    rest = api.payment_capture(payment_id=info.payment_id, idempotency_key="cap-3")
    assert (rest.status, rest.amount_captured) == ("captured", Decimal("100.00"))
    assert sandbox_calls("capture:cap-2") == 0  # refused before the provider was asked
    outcomes = list(PaymentTransaction.objects.filter(payment_id=info.payment_id, operation="capture")
                    .values_list("amount", "outcome", "status_after"))
    assert outcomes == [(Decimal("30.000"), "succeeded", "partially_captured"),
                        (Decimal("70.000"), "succeeded", "captured")]


@pytest.mark.django_db
def test_a_retried_capture_is_answered_from_its_record():
    info = authorize(amount="100.00")
    first = api.payment_capture(payment_id=info.payment_id, amount=Decimal("40.00"), idempotency_key="ship-1")
    again = api.payment_capture(payment_id=info.payment_id, amount=Decimal("40.00"), idempotency_key="ship-1")
    assert again == first
    assert Payment.objects.get(pk=info.payment_id).amount_captured == Decimal("40.00")
    assert sandbox_calls("capture:ship-1") == 1


@pytest.mark.django_db
def test_void_releases_the_authorization_and_nothing_can_be_captured_after():
    info = authorize()
    voided = api.payment_void(payment_id=info.payment_id, idempotency_key="void-1")
    assert voided.status == "voided"
    with pytest.raises(api.PaymentNotAllowed, match="voided cannot be captured"):
        api.payment_capture(payment_id=info.payment_id, idempotency_key="cap-after-void")
    assert api.payment_void(payment_id=info.payment_id, idempotency_key="void-1") == voided


@pytest.mark.django_db
def test_voiding_after_a_partial_capture_releases_the_rest():
    info = authorize(amount="100.00")
    api.payment_capture(payment_id=info.payment_id, amount=Decimal("25.00"), idempotency_key="cap")
    settled = api.payment_void(payment_id=info.payment_id, idempotency_key="void")
    assert (settled.status, settled.amount_captured) == ("captured", Decimal("25.00"))
    assert PaymentTransaction.objects.get(idempotency_key="void").amount == Decimal("75.00")


@pytest.mark.django_db
def test_refunds_partial_then_full_and_never_more_than_captured():
    info = authorize(amount="80.00")
    with pytest.raises(api.PaymentNotAllowed, match="authorized cannot be refunded"):
        api.payment_refund(payment_id=info.payment_id, idempotency_key="too-early")
    api.payment_capture(payment_id=info.payment_id, idempotency_key="cap")
    part = api.payment_refund(payment_id=info.payment_id, amount=Decimal("30.00"), idempotency_key="ref-1")
    assert (part.status, part.amount_refunded) == ("partially_refunded", Decimal("30.00"))
    with pytest.raises(api.PaymentNotAllowed, match=r"At most 50\.00 EUR"):
        api.payment_refund(payment_id=info.payment_id, amount=Decimal("50.01"), idempotency_key="ref-2")
    full = api.payment_refund(payment_id=info.payment_id, idempotency_key="ref-3")
    assert (full.status, full.amount_refunded) == ("refunded", Decimal("80.00"))
    refunds = list(Refund.objects.filter(payment_id=info.payment_id).values_list("amount", "status"))
    assert refunds == [(Decimal("30.000"), "succeeded"), (Decimal("50.000"), "succeeded")]


@pytest.mark.django_db
def test_operations_on_an_unknown_payment_are_not_found():
    with pytest.raises(api.PaymentNotFound):
        api.payment_capture(payment_id=uuid.uuid4(), idempotency_key="k")


@pytest.mark.django_db
def test_payment_for_order_is_the_latest_payment_or_none():
    order_id = uuid.uuid4()
    assert api.payment_for_order(order_id=order_id) is None
    with pytest.raises(api.PaymentDeclined):
        authorize(token="tok_declined", order_id=order_id)
    second = authorize(order_id=order_id)
    assert api.payment_for_order(order_id=order_id) == second


@pytest.mark.django_db
def test_cancel_for_order_voids_an_authorized_payment_once():
    order_id = uuid.uuid4()
    info = authorize(order_id=order_id)
    api.payment_cancel_for_order(order_id=order_id)
    api.payment_cancel_for_order(order_id=order_id)
    assert api.payment_for_order(order_id=order_id).status == "voided"
    voids = PaymentTransaction.objects.filter(payment_id=info.payment_id, operation="void")
    assert [(v.outcome, v.status_after) for v in voids] == [("succeeded", "voided")]
    assert sandbox_calls(voids[0].provider_key) == 1


@pytest.mark.django_db
def test_cancel_for_order_refunds_a_payment_that_was_already_captured():
    order_id = uuid.uuid4()
    info = authorize(order_id=order_id, amount="20.00")
    api.payment_capture(payment_id=info.payment_id, idempotency_key="cap")
    api.payment_cancel_for_order(order_id=order_id)
    after = api.payment_for_order(order_id=order_id)
    assert (after.status, after.amount_refunded) == ("refunded", Decimal("20.00"))


@pytest.mark.django_db
def test_cancel_for_order_leaves_a_failed_payment_alone():
    order_id = uuid.uuid4()
    with pytest.raises(api.PaymentDeclined):
        authorize(token="tok_declined", order_id=order_id)
    api.payment_cancel_for_order(order_id=order_id)
    assert api.payment_for_order(order_id=order_id).status == "failed"
    assert not PaymentTransaction.objects.filter(operation="void").exists()
