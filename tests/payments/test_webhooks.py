"""POST /api/v1/payments/webhooks/{provider}/: signed, deduplicated, applied once."""

import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.db import connections
from rest_framework.test import APIClient

from apps.common.models import OutboxEvent
from apps.payments import api
from apps.payments.models import Payment, PaymentTransaction, WebhookEvent
from apps.payments.providers.sandbox import SandboxProvider
from tests.payments.conftest import authorize, signed_webhook, webhook_payload


def _pending_authorization():
    order_id = uuid.uuid4()
    with pytest.raises(api.PaymentProviderUnavailable):
        authorize(token="tok_timeout", order_id=order_id)
    return PaymentTransaction.objects.get(payment__order_id=order_id)


@pytest.mark.django_db
def test_a_signed_webhook_resolves_a_pending_operation(api_client):
    tx = _pending_authorization()
    response = signed_webhook(api_client, "sandbox", webhook_payload(provider_key=tx.provider_key,
                                                                     reference="sbx_auth_1", event_id="evt_1"))
    assert response.status_code == 200
    assert response.json() == {"event_id": "evt_1", "result": "applied", "duplicate": False}
    tx.refresh_from_db()
    assert (tx.outcome, tx.resolved_by, tx.status_after) == ("succeeded", "webhook", "authorized")
    assert Payment.objects.get().provider_reference == "sbx_auth_1"


@pytest.mark.django_db
def test_a_redelivered_event_is_acknowledged_but_not_applied_again(api_client):
    tx = _pending_authorization()
    payload = webhook_payload(provider_key=tx.provider_key, event_id="evt_2")
    signed_webhook(api_client, "sandbox", payload)
    again = signed_webhook(api_client, "sandbox", payload)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1
    assert OutboxEvent.objects.filter(event_type="payments.payment_authorized").count() == 1


@pytest.mark.django_db
def test_a_declined_webhook_fails_the_pending_authorization(api_client):
    tx = _pending_authorization()
    signed_webhook(api_client, "sandbox", webhook_payload(provider_key=tx.provider_key, status="declined",
                                                          decline_code="card_declined"))
    assert Payment.objects.get().status == "failed"
    with pytest.raises(api.PaymentDeclined):  # the caller's retry now gets the decline
        authorize(token="tok_timeout", order_id=tx.payment.order_id, key=tx.idempotency_key)


@pytest.mark.django_db
@pytest.mark.parametrize("tamper", ["wrong_secret", "old_timestamp", "future_timestamp"])
def test_a_bad_or_stale_signature_is_refused_and_changes_nothing(api_client, tamper):
    tx = _pending_authorization()
    payload = webhook_payload(provider_key=tx.provider_key)
    kwargs = {"wrong_secret": {"secret": "whsec_other"},
              "old_timestamp": {"timestamp": int(time.time()) - 301},
              "future_timestamp": {"timestamp": int(time.time()) + 301}}[tamper]
    response = signed_webhook(api_client, "sandbox", payload, **kwargs)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "webhook_signature_invalid"
    assert WebhookEvent.objects.count() == 0
    assert Payment.objects.get().status == "pending"


@pytest.mark.django_db
def test_a_timestamp_within_five_minutes_is_accepted(api_client):
    tx = _pending_authorization()
    response = signed_webhook(api_client, "sandbox", webhook_payload(provider_key=tx.provider_key),
                              timestamp=int(time.time()) - 290)
    assert response.json()["result"] == "applied"


@pytest.mark.django_db
def test_unsigned_webhooks_are_refused(api_client):
    response = api_client.post("/api/v1/payments/webhooks/sandbox/", {"id": "evt"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_signature_invalid"


@pytest.mark.django_db
def test_a_provider_without_a_secret_accepts_no_webhook(api_client, settings):
    settings.PAYMENTS_WEBHOOK_SECRETS = {"sandbox": ""}
    response = signed_webhook(api_client, "sandbox", webhook_payload(provider_key="authorize:x"), secret="")
    assert response.status_code == 400


@pytest.mark.django_db
def test_an_unknown_provider_is_not_found(api_client):
    response = signed_webhook(api_client, "acme", webhook_payload(provider_key="authorize:x"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_a_signed_body_that_is_not_an_event_is_a_400(api_client):
    response = signed_webhook(api_client, "sandbox", {"hello": "world"})
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_invalid"


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"[" * 15000 + b"]" * 15000, b'{"a":' * 5000 + b"1" + b"}" * 5000],
                         ids=["arrays", "objects"])
def test_a_signed_body_nested_too_deep_is_a_400(api_client, body):
    response = signed_webhook(api_client, "sandbox", body)
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_invalid"
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_an_event_for_an_unknown_operation_is_recorded_as_unmatched(api_client):
    response = signed_webhook(api_client, "sandbox", webhook_payload(provider_key="capture:not-ours"))
    assert response.json()["result"] == "unmatched"


@pytest.mark.django_db
def test_an_event_that_repeats_a_known_outcome_changes_nothing(api_client):
    info = authorize()
    tx = PaymentTransaction.objects.get(payment_id=info.payment_id)
    response = signed_webhook(api_client, "sandbox", webhook_payload(provider_key=tx.provider_key))
    assert response.json()["result"] == "already_known"
    assert OutboxEvent.objects.filter(event_type="payments.payment_authorized").count() == 1


@pytest.mark.django_db
def test_an_event_that_contradicts_the_recorded_outcome_is_kept_for_a_human(api_client):
    info = authorize()
    tx = PaymentTransaction.objects.get(payment_id=info.payment_id)
    response = signed_webhook(api_client, "sandbox", webhook_payload(provider_key=tx.provider_key,
                                                                     status="declined"))
    assert response.json()["result"] == "conflict"
    assert Payment.objects.get().status == "authorized"


def _post_webhook(provider_key, event_id, results, start=None):
    try:
        if start is not None:
            start.wait(timeout=10)
        response = signed_webhook(APIClient(), "http", webhook_payload(provider_key=provider_key, event_id=event_id))
        results.append(response.json())
    finally:
        connections.close_all()


def _exactly_one_capture(payment_id):
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.status, payment.amount_captured) == ("captured", Decimal("100.00"))
    (capture,) = PaymentTransaction.objects.filter(payment_id=payment_id, operation="capture")
    assert (capture.outcome, capture.status_before, capture.status_after) == ("succeeded", "authorized", "captured")
    captured_events = OutboxEvent.objects.filter(event_type="payments.payment_captured", aggregate_id=str(payment_id))
    assert captured_events.count() == 1
    return capture


@pytest.mark.django_db(transaction=True)
def test_a_webhook_that_arrives_before_the_answer_makes_the_transition_and_the_answer_agrees(processor):
    info = authorize()
    results = []

    def deliver_first(operation, key):
        if operation == "capture":
            worker = threading.Thread(target=_post_webhook, args=(key, "evt_first", results))
            worker.start()
            worker.join()

    processor.before_answer = deliver_first
    captured = api.payment_capture(payment_id=info.payment_id, idempotency_key="ship")
    assert (captured.status, captured.amount_captured) == ("captured", Decimal("100.00"))
    assert results == [{"event_id": "evt_first", "result": "applied", "duplicate": False}]
    assert _exactly_one_capture(info.payment_id).resolved_by == "webhook"


@pytest.mark.django_db(transaction=True)
def test_the_webhook_and_the_answer_racing_make_one_capture(processor):
    for round_ in range(4):
        info = authorize()
        results, workers = [], []

        def deliver_together(operation, key, round_=round_, results=results, workers=workers):
            if operation != "capture":
                return
            start = threading.Barrier(2)
            worker = threading.Thread(target=_post_webhook, args=(key, f"evt_race_{round_}", results, start))
            worker.start()
            workers.append(worker)
            start.wait(timeout=10)  # the answer leaves as the webhook is posted

        processor.before_answer = deliver_together
        captured = api.payment_capture(payment_id=info.payment_id, idempotency_key=f"ship-{round_}")
        for worker in workers:
            worker.join()
        assert (captured.status, captured.amount_captured) == ("captured", Decimal("100.00"))
        capture = _exactly_one_capture(info.payment_id)
        assert capture.resolved_by in ("response", "webhook")
        assert results[0]["result"] == ("applied" if capture.resolved_by == "webhook" else "already_known")
    assert [auth["captured"] for auth in processor.authorizations.values()] == [Decimal("100.00")] * 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_apply_it_once(api_client):
    tx = _pending_authorization()
    start = threading.Barrier(4)
    results = []

    def deliver():
        try:
            start.wait(timeout=10)
            response = signed_webhook(APIClient(), "sandbox",
                                      webhook_payload(provider_key=tx.provider_key, event_id="evt_dup"))
            results.append(response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["duplicate"] for r in results) == [False, True, True, True]
    assert WebhookEvent.objects.count() == 1
    assert OutboxEvent.objects.filter(event_type="payments.payment_authorized").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_webhook_authorizing_a_cancelled_payment_gets_it_voided(api_client):
    tx = _pending_authorization()
    api.payment_cancel_for_order(order_id=tx.payment.order_id)
    reference = SandboxProvider().lookup(idempotency_key=tx.provider_key).reference  # what the processor sends
    signed_webhook(api_client, "sandbox", webhook_payload(provider_key=tx.provider_key, reference=reference))
    assert Payment.objects.get().status == "voided"
