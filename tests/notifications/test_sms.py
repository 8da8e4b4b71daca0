"""SMS through the gateway adapters: the HTTP one against a real loopback server, the console one."""

import pytest
from django.test import override_settings

from apps.notifications.models import Channel, Delivery
from apps.notifications.tasks import deliver
from tests.notifications.factories import DeliveryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def http_gateway(receiver):
    with override_settings(NOTIFICATIONS_SMS_BACKEND="http", NOTIFICATIONS_SMS_GATEWAY_URL=f"{receiver.url}/sms",
                           NOTIFICATIONS_SMS_GATEWAY_TOKEN="gw-token"):
        yield receiver


def sms(recipient="+4915123456789"):
    return DeliveryFactory(channel=Channel.SMS, recipient=recipient, event_type="orders.order_shipped",
                           payload={"text": "Commerce: order ORD-7 has shipped."})


def test_the_http_gateway_gets_the_number_the_text_and_an_idempotency_key(http_gateway):
    delivery = sms()
    deliver.delay(delivery.pk)
    (request,) = http_gateway.requests
    assert request.path == "/sms"
    assert request.json() == {"to": "+4915123456789", "body": "Commerce: order ORD-7 has shipped."}
    assert request.headers["authorization"] == "Bearer gw-token"
    assert request.headers["idempotency-key"] == f"{delivery.event_id}:sms:+4915123456789"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == (Delivery.Status.DELIVERED, 200)


def test_a_gateway_error_is_retried_and_a_rejected_message_is_not(http_gateway):
    http_gateway.replies = [{"status": 503}, {"status": 422}]
    retried, rejected = sms(), sms(recipient="+4915100000000")
    deliver.delay(retried.pk)
    deliver.delay(rejected.pk)
    retried.refresh_from_db()
    rejected.refresh_from_db()
    assert (retried.status, retried.last_status_code) == (Delivery.Status.FAILED, 503)
    assert (rejected.status, rejected.last_status_code) == (Delivery.Status.DEAD, 422)


def test_an_invalid_phone_number_fails_at_once_without_calling_the_gateway(http_gateway):
    delivery = sms(recipient="call me maybe")
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DEAD
    assert http_gateway.requests == []


def test_the_console_gateway_prints_the_message(capsys):
    delivery = sms()
    with override_settings(NOTIFICATIONS_SMS_BACKEND="console"):
        deliver.delay(delivery.pk)
    assert "SMS to +4915123456789" in capsys.readouterr().out
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
