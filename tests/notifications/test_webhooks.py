"""Webhooks signed per Standard Webhooks, delivered to a real receiver on loopback."""

import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from apps.common.messaging.consumers import consumer_get, event_apply
from apps.notifications.models import Channel, Delivery, DeliveryAttempt, WebhookEndpoint
from apps.notifications.services.endpoints import webhook_endpoint_rotate_secret
from apps.notifications.tasks import deliver
from tests.notifications.factories import EnvelopeFactory, UserFactory, WebhookEndpointFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]


def verifies(secret: str, request) -> list[bool]:
    """Check each v1 signature of a request the way a receiver does, from the spec alone."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    signatures = request.headers["webhook-signature"].split()
    return [hmac.compare_digest(sig.removeprefix("v1,"), expected) for sig in signatures]


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpointFactory(url=f"{receiver.url}/hooks", event_types=["orders.order_placed"])


def webhook_delivery(endpoint):
    envelope = EnvelopeFactory()
    event_apply(consumer=consumer_get("notifications"), envelope=envelope)
    return Delivery.objects.get(channel=Channel.WEBHOOK, endpoint=endpoint, event_id=envelope["id"]), envelope


def test_a_webhook_carries_the_event_and_a_valid_standard_webhooks_signature(receiver, endpoint):
    delivery, envelope = webhook_delivery(endpoint)
    deliver.delay(delivery.pk)
    (request,) = receiver.requests
    assert request.path == "/hooks"
    assert request.headers["webhook-id"] == envelope["id"]
    assert request.headers["webhook-timestamp"].isdigit()
    assert verifies(endpoint.secret, request) == [True]
    assert request.json() == {"type": "orders.order_placed", "timestamp": envelope["occurred_at"],
                              "data": envelope["data"]}
    assert request.headers["content-type"] == "application/json"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED


def test_the_webhook_id_is_the_same_on_every_retry(receiver, endpoint):
    receiver.replies = [{"status": 500}, {"status": 502}]
    delivery, envelope = webhook_delivery(endpoint)
    for _ in range(3):  # what the retried task does, without the backoff
        deliver.delay(delivery.pk)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [envelope["id"]] * 3
    assert all(verifies(endpoint.secret, r) == [True] for r in receiver.requests)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
    assert list(delivery.attempt_rows.values_list("status_code", flat=True)) == [500, 502, 200]


@override_settings(NOTIFICATIONS_BACKOFF_BASE_SECONDS=1, NOTIFICATIONS_BACKOFF_MAX_SECONDS=2)
def test_a_429_is_retried_no_sooner_than_its_retry_after(receiver, endpoint):
    receiver.replies = [{"status": 429, "headers": {"Retry-After": "120"}}]
    delivery, _ = webhook_delivery(endpoint)
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == (Delivery.Status.FAILED, 429)
    assert delivery.next_attempt_at >= delivery.attempt_rows.get().finished_at + dt.timedelta(seconds=120)


def test_a_client_error_is_not_retried(receiver, endpoint):
    receiver.replies = [{"status": 410}]
    delivery, _ = webhook_delivery(endpoint)
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (Delivery.Status.DEAD, 1, 410)


def test_redirects_are_not_followed(receiver, endpoint):
    receiver.replies = [{"status": 302, "headers": {"Location": f"{receiver.url}/elsewhere"}}]
    delivery, _ = webhook_delivery(endpoint)
    deliver.delay(delivery.pk)
    assert [r.path for r in receiver.requests] == ["/hooks"]
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DEAD
    assert "redirects are not followed" in delivery.last_error


@override_settings(NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS=0.3)
def test_a_receiver_slower_than_the_timeout_is_retried(receiver, endpoint):
    receiver.replies = [{"status": 200, "delay": 1.5}]
    delivery, _ = webhook_delivery(endpoint)
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "timed out" in delivery.last_error


@override_settings(NOTIFICATIONS_MAX_ATTEMPTS=3)
def test_a_receiver_that_keeps_failing_makes_the_delivery_dead_after_the_last_attempt(receiver, endpoint):
    receiver.default = {"status": 500}
    delivery, _ = webhook_delivery(endpoint)
    for _ in range(4):
        deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DEAD
    assert len(receiver.requests) == 3  # the fourth run found it dead and sent nothing
    assert list(delivery.transitions.values_list("to_status", flat=True)) == [
        "pending", "sending", "failed", "sending", "failed", "sending", "dead"]


def test_during_a_secret_rotation_both_signatures_are_sent(receiver, endpoint):
    old_secret = endpoint.secret
    endpoint, new_secret = webhook_endpoint_rotate_secret(endpoint_id=endpoint.pk)
    delivery, _ = webhook_delivery(endpoint)
    deliver.delay(delivery.pk)
    (request,) = receiver.requests
    assert verifies(new_secret, request) == [True, False]
    assert verifies(old_secret, request) == [False, True]


def test_after_the_grace_period_only_the_new_secret_signs(receiver, endpoint):
    endpoint, new_secret = webhook_endpoint_rotate_secret(endpoint_id=endpoint.pk)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - dt.timedelta(seconds=1))
    delivery, _ = webhook_delivery(endpoint)
    deliver.delay(delivery.pk)
    (request,) = receiver.requests
    assert verifies(new_secret, request) == [True]


@override_settings(NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_FAILURES=3, NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_HOURS=0)
def test_an_endpoint_that_keeps_failing_is_disabled_and_its_owner_emailed(receiver, django_capture_on_commit_callbacks):
    owner = UserFactory(email="integrations@partner.example")
    endpoint = WebhookEndpointFactory(url=f"{receiver.url}/hooks", owner=owner)
    receiver.default = {"status": 503}
    for _ in range(3):  # three events, each delivery failing once
        with django_capture_on_commit_callbacks(execute=True):
            webhook_delivery(endpoint)
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert "3 failed attempts in a row" in endpoint.disabled_reason
    (notice,) = [m for m in mail.outbox if m.to == ["integrations@partner.example"]]
    assert notice.subject == "Commerce: your webhook endpoint was disabled"
    assert endpoint.url in notice.body
    # Events after that are not sent to it
    event_apply(consumer=consumer_get("notifications"), envelope=EnvelopeFactory())
    assert len(receiver.requests) == 3


def test_a_success_resets_the_failure_count(receiver, endpoint):
    receiver.replies = [{"status": 500}]
    delivery, _ = webhook_delivery(endpoint)
    deliver.delay(delivery.pk)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1
    deliver.delay(delivery.pk)
    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 2
    assert json.loads(delivery.payload["body"])["type"] == "orders.order_placed"
