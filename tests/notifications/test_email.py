"""Email through Django's SMTP backend to a real SMTP server on loopback."""

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.common.messaging.consumers import consumer_get, event_apply
from apps.notifications.models import Delivery, DeliveryAttempt
from apps.notifications.tasks import deliver
from tests.notifications.conftest import free_port
from tests.notifications.factories import DeliveryFactory, EnvelopeFactory

pytestmark = pytest.mark.django_db


def test_the_confirmation_reaches_the_smtp_server_as_text_and_html(smtp_server, django_capture_on_commit_callbacks):
    # Given an order placed by ada@example.com
    envelope = EnvelopeFactory(data__email="ada@example.com", data__number="ORD-000777")
    # When notifications handles it
    with django_capture_on_commit_callbacks(execute=True):
        event_apply(consumer=consumer_get("notifications"), envelope=envelope)
    # Then the SMTP server received one message for her, with a plain and an HTML part
    ((_sender, rcpt_tos),) = smtp_server.envelopes
    assert rcpt_tos == ["ada@example.com"]
    (message,) = smtp_server.messages
    assert message["Subject"] == "Commerce: order ORD-000777 confirmed"
    assert message["X-Event-Id"] == envelope["id"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Total:    59.97 EUR" in text
    assert "<strong>ORD-000777</strong>" in html
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.DELIVERED
    (attempt,) = delivery.attempt_rows.all()
    assert (attempt.outcome, attempt.status_code) == (DeliveryAttempt.Outcome.SUCCESS, 250)
    assert attempt.duration_ms is not None


def test_a_mailbox_the_server_refuses_for_good_is_dead_after_one_attempt(smtp_server):
    smtp_server.refuse["gone@example.com"] = "550 5.1.1 No such user"
    delivery = DeliveryFactory(recipient="gone@example.com")
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (Delivery.Status.DEAD, 1, 550)
    assert delivery.attempt_rows.get().outcome == DeliveryAttempt.Outcome.PERMANENT
    assert smtp_server.messages == []


def test_a_mailbox_refused_for_now_is_retried_later(smtp_server):
    smtp_server.refuse["busy@example.com"] = "451 4.3.0 Try again later"
    delivery = DeliveryFactory(recipient="busy@example.com")
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.next_attempt_at > timezone.now()
    assert delivery.attempt_rows.get().outcome == DeliveryAttempt.Outcome.TRANSIENT


def test_an_invalid_address_fails_at_once_without_contacting_the_server(smtp_server):
    delivery = DeliveryFactory(recipient="not-an-address")
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DEAD
    assert "invalid email address" in delivery.last_error
    assert smtp_server.envelopes == []


def test_an_unreachable_smtp_server_is_retried_later(smtp_server):
    delivery = DeliveryFactory()
    with override_settings(EMAIL_PORT=free_port()):  # nothing listens there
        deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "SMTP unavailable" in delivery.last_error
