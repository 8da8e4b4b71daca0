"""Staff REST: /api/v1/payments/ list and detail with the transaction log; capture, void and
refund with Idempotency-Key."""

import uuid
from decimal import Decimal

import pytest

from apps.payments.breaker import CircuitBreaker
from apps.payments.models import Payment
from apps.payments.providers.sandbox import sandbox_calls
from tests.payments.conftest import authorize
from tests.payments.factories import PaymentFactory

URL = "/api/v1/payments/"


def post(client, path, body=None, key="key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, body or {}, format="json", **headers)


@pytest.mark.django_db
def test_only_staff_see_payments(api_client, customer_client):
    assert api_client.get(URL).status_code == 401
    response = customer_client.get(URL)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.django_db
def test_the_list_is_newest_first_and_filters_by_order_and_status(staff_client):
    older = authorize()
    newer = authorize()
    PaymentFactory(status=Payment.Status.VOIDED)
    body = staff_client.get(URL).json()
    assert [p["id"] for p in body["results"]][1:] == [str(newer.payment_id), str(older.payment_id)]
    by_order = staff_client.get(URL, {"order_id": str(older.order_id)}).json()["results"]
    assert [p["id"] for p in by_order] == [str(older.payment_id)]
    assert len(staff_client.get(URL, {"status": "voided"}).json()["results"]) == 1


@pytest.mark.django_db
def test_a_bad_filter_is_a_400_with_the_field(staff_client):
    response = staff_client.get(URL, {"order_id": "not-a-uuid"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "order_id"


@pytest.mark.django_db
def test_the_detail_has_the_transaction_log_and_amounts_in_the_currency(staff_client):
    info = authorize(amount="1000", currency="JPY")
    post(staff_client, f"{URL}{info.payment_id}/capture/", {"amount": "400"})
    body = staff_client.get(f"{URL}{info.payment_id}/").json()
    assert (body["status"], body["amount_authorized"], body["amount_captured"]) == ("partially_captured", "1000",
                                                                                    "400")
    assert [(t["operation"], t["amount"], t["outcome"]) for t in body["transactions"]] == [
        ("authorize", "1000", "succeeded"), ("capture", "400", "succeeded")]
    assert body["transactions"][1]["status_before"] == "authorized"
    assert body["transactions"][0]["raw_response"]["status"] == "approved"


@pytest.mark.django_db
def test_an_unknown_payment_is_a_404(staff_client):
    assert staff_client.get(f"{URL}{uuid.uuid4()}/").status_code == 404
    assert post(staff_client, f"{URL}{uuid.uuid4()}/void/").status_code == 404
    assert staff_client.get(f"{URL}{'-' * 36}/").json()["code"] == "not_found"  # not a UUID


@pytest.mark.django_db
def test_actions_need_an_idempotency_key(staff_client):
    info = authorize()
    response = post(staff_client, f"{URL}{info.payment_id}/capture/", key=None)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"
    assert Payment.objects.get().amount_captured == 0


@pytest.mark.django_db
def test_capture_and_its_retry_capture_once(staff_client):
    info = authorize(amount="100.00")
    first = post(staff_client, f"{URL}{info.payment_id}/capture/", {"amount": "30.00"}, key="cap-1")
    again = post(staff_client, f"{URL}{info.payment_id}/capture/", {"amount": "30.00"}, key="cap-1")
    assert first.status_code == again.status_code == 200
    assert (first.json()["status"], first.json()["amount_captured"]) == ("partially_captured", "30.00")
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.get().amount_captured == Decimal("30.00")
    assert sum(sandbox_calls(k) for k in _provider_keys(info.payment_id, "capture")) == 1


def _provider_keys(payment_id, operation):
    return list(Payment.objects.get(pk=payment_id).transactions.filter(operation=operation)
                .values_list("provider_key", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize(("amount", "code"), [("abc", "invalid"), ("10.001", "invalid_amount"),
                                              ("100.01", "amount_too_large"), ("-1", "min_value"),
                                              ("0", "min_value")])
def test_bad_amounts_are_400_with_field_errors(staff_client, amount, code):
    info = authorize(amount="100.00")
    response = post(staff_client, f"{URL}{info.payment_id}/capture/", {"amount": amount})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("amount", code)]
    assert Payment.objects.get().amount_captured == 0


@pytest.mark.django_db
def test_void_then_a_second_void_is_a_409(staff_client):
    info = authorize()
    voided = post(staff_client, f"{URL}{info.payment_id}/void/", key="void-1")
    assert voided.json()["status"] == "voided"
    again = post(staff_client, f"{URL}{info.payment_id}/void/", key="void-2")
    assert again.status_code == 409
    assert again.json()["code"] == "payment_not_allowed"


@pytest.mark.django_db
def test_refund_partial_then_more_than_remains_is_a_400(staff_client):
    info = authorize(amount="50.00")
    post(staff_client, f"{URL}{info.payment_id}/capture/", key="cap")
    refunded = post(staff_client, f"{URL}{info.payment_id}/refund/", {"amount": "20.00"}, key="ref-1")
    assert (refunded.json()["status"], refunded.json()["amount_refunded"]) == ("partially_refunded", "20.00")
    assert refunded.json()["refunds"][0]["amount"] == "20.00"
    too_much = post(staff_client, f"{URL}{info.payment_id}/refund/", {"amount": "30.01"}, key="ref-2")
    assert too_much.status_code == 400
    assert too_much.json()["errors"][0]["code"] == "amount_too_large"


@pytest.mark.django_db
def test_a_provider_decline_is_a_402_problem(staff_client):
    payment = PaymentFactory()  # an authorization the sandbox processor does not know
    response = post(staff_client, f"{URL}{payment.pk}/capture/")
    assert response.status_code == 402
    assert response.json()["code"] == "payment_declined"
    assert response.json()["decline_code"] == "unknown_authorization"


@pytest.mark.django_db
def test_an_open_breaker_is_a_503_with_retry_after(staff_client, settings):
    info = authorize()
    for _ in range(settings.PAYMENTS_BREAKER_FAILURE_THRESHOLD):
        CircuitBreaker("sandbox").record_failure()
    response = post(staff_client, f"{URL}{info.payment_id}/capture/")
    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert 1 <= int(response["Retry-After"]) <= 30
    assert Payment.objects.get().amount_captured == 0
