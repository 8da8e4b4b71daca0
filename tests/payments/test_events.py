"""Producer contract: the events payments writes to the outbox match their JSON Schemas."""

import uuid
from decimal import Decimal

import jsonschema
import pytest

from apps.common.messaging.schemas import validate_event_data
from apps.common.models import OutboxEvent
from apps.payments import api
from tests.payments.conftest import authorize


def _events(payment_id):
    return list(OutboxEvent.objects.filter(aggregate_id=str(payment_id)).order_by("occurred_at", "id"))


@pytest.mark.django_db
def test_every_payment_event_validates_against_its_schema():
    order_id = uuid.uuid4()
    info = authorize(amount="60.00", order_id=order_id)
    api.payment_capture(payment_id=info.payment_id, amount=Decimal("40.00"), idempotency_key="cap")
    api.payment_void(payment_id=info.payment_id, idempotency_key="void")
    api.payment_refund(payment_id=info.payment_id, amount=Decimal("15.00"), idempotency_key="ref")
    with pytest.raises(api.PaymentDeclined):
        authorize(token="tok_insufficient_funds", order_id=order_id)
    declined = api.payment_for_order(order_id=order_id)

    produced = _events(info.payment_id) + _events(declined.payment_id)
    assert [e.event_type for e in produced] == [
        "payments.payment_authorized", "payments.payment_captured", "payments.payment_voided",
        "payments.payment_refunded", "payments.payment_failed"]
    for event in produced:
        validate_event_data(event.event_type, event.version, event.data)
        assert event.envelope()["aggregate_id"] == event.data["payment_id"]


@pytest.mark.django_db
def test_event_data_carries_what_a_consumer_needs():
    order_id = uuid.uuid4()
    info = authorize(amount="60.00", order_id=order_id)
    api.payment_capture(payment_id=info.payment_id, amount=Decimal("40.00"), idempotency_key="cap")
    api.payment_void(payment_id=info.payment_id, idempotency_key="void")
    api.payment_refund(payment_id=info.payment_id, amount=Decimal("15.00"), idempotency_key="ref")
    authorized, captured, voided, refunded = (e.data for e in _events(info.payment_id))
    assert authorized["order_id"] == str(order_id)
    assert (authorized["amount"], authorized["currency"], authorized["status"]) == ("60.00", "EUR", "authorized")
    assert (captured["amount"], captured["amount_captured"], captured["status"]) == ("40.00", "40.00",
                                                                                      "partially_captured")
    assert (voided["amount"], voided["status"]) == ("20.00", "captured")  # the released rest
    assert (refunded["amount"], refunded["amount_refunded"], refunded["status"]) == ("15.00", "15.00",
                                                                                      "partially_refunded")
    assert refunded["refund_id"]
    assert len({authorized["transaction_id"], captured["transaction_id"], refunded["transaction_id"]}) == 3


@pytest.mark.django_db
def test_a_failed_authorization_event_names_the_decline():
    order_id = uuid.uuid4()
    with pytest.raises(api.PaymentDeclined):
        authorize(token="tok_declined", order_id=order_id, amount="12.34")
    (failed,) = OutboxEvent.objects.filter(event_type="payments.payment_failed")
    assert failed.data["decline_code"] == "card_declined"
    assert (failed.data["amount"], failed.data["status"], failed.data["order_id"]) == ("12.34", "failed",
                                                                                       str(order_id))


@pytest.mark.django_db
def test_a_refused_operation_changes_nothing_and_records_no_event():
    info = authorize(amount="10.00")
    before = OutboxEvent.objects.count()
    with pytest.raises(api.PaymentNotAllowed):
        api.payment_capture(payment_id=info.payment_id, amount=Decimal("10.01"), idempotency_key="too-much")
    assert OutboxEvent.objects.count() == before
    assert api.payment_for_order(order_id=info.order_id) == info


def test_the_schemas_reject_a_payload_without_its_payment():
    with pytest.raises(jsonschema.ValidationError):
        validate_event_data("payments.payment_captured", 1, {"order_id": str(uuid.uuid4()), "amount": "1.00"})
    with pytest.raises(jsonschema.ValidationError):
        validate_event_data("payments.payment_refunded", 1, {
            "payment_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "transaction_id": str(uuid.uuid4()),
            "amount": 1.5, "currency": "EUR", "status": "refunded", "amount_authorized": "1.50",
            "amount_captured": "1.50", "amount_refunded": "1.50", "method": "card", "provider": "sandbox",
            "provider_reference": "x", "refund_id": str(uuid.uuid4())})
