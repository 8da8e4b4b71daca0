"""Periodic tasks: the resume sweep finds deliveries whose task went missing; the inbox purge."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.common.messaging.consumers import consumer_get, event_apply
from apps.notifications.models import Channel, Delivery, DeliveryAttempt, InboxEvent
from apps.notifications.tasks import deliver, deliveries_resume, inbox_purge
from tests.notifications.factories import DeliveryFactory, EnvelopeFactory, WebhookEndpointFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]


@pytest.fixture
def webhook(receiver):
    endpoint = WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    return DeliveryFactory(channel=Channel.WEBHOOK, recipient=str(endpoint.pk), endpoint=endpoint,
                           payload={"body": '{"type":"orders.order_placed"}'})


def test_in_process_a_failed_delivery_is_retried_by_the_sweep_once_due(receiver, webhook):
    receiver.replies = [{"status": 503}]
    deliver.delay(webhook.pk)
    webhook.refresh_from_db()
    assert webhook.status == Delivery.Status.FAILED
    assert deliveries_resume.delay().result == 0  # not due yet: the backoff still runs
    Delivery.objects.filter(pk=webhook.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert deliveries_resume.delay().result == 1
    webhook.refresh_from_db()
    assert webhook.status == Delivery.Status.DELIVERED
    assert len(receiver.requests) == 2


@override_settings(NOTIFICATIONS_CLAIM_LEASE_SECONDS=60)
def test_a_claim_whose_worker_went_silent_past_the_lease_is_taken_over(receiver, webhook):
    # Given a delivery claimed by a worker that died mid-attempt long ago and whose message is gone
    # (a worker of the previous release: it wrote its attempt's row as the attempt began)
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    Delivery.objects.filter(pk=webhook.pk).update(status=Delivery.Status.SENDING, claim_token="dead-worker:0",
                                                  claimed_at=long_ago, attempts=1)
    DeliveryAttempt.objects.create(delivery=webhook, number=1, started_at=long_ago)
    # When the sweep runs
    assert deliveries_resume.delay().result == 1
    # Then another attempt took over and delivered it; the lost one is marked interrupted
    webhook.refresh_from_db()
    assert webhook.status == Delivery.Status.DELIVERED
    assert list(webhook.attempt_rows.values_list("outcome", flat=True)) == ["interrupted", "success"]


@override_settings(NOTIFICATIONS_CLAIM_LEASE_SECONDS=60)
def test_an_attempt_lost_before_it_recorded_anything_shows_as_interrupted_after_the_takeover(receiver, webhook):
    # Given a delivery whose first attempt died mid-send long ago (an attempt is recorded as it ends)
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    Delivery.objects.filter(pk=webhook.pk).update(status=Delivery.Status.SENDING, claim_token="dead-worker:0",
                                                  claimed_at=long_ago, attempts=1)
    # When the sweep runs
    assert deliveries_resume.delay().result == 1
    # Then the second attempt delivered it, and the history shows the first claimed then interrupted
    webhook.refresh_from_db()
    assert webhook.status == Delivery.Status.DELIVERED
    assert list(webhook.attempt_rows.values_list("number", "outcome", "started_at")) == [
        (1, "interrupted", long_ago), (2, "success", webhook.claimed_at)]
    assert list(webhook.transitions.values_list("from_status", "to_status", "reason")) == [
        ("pending", "sending", "attempt 1"), ("sending", "failed", "attempt interrupted (worker lost)"),
        ("failed", "sending", "attempt 2"), ("sending", "delivered", "attempt 2 succeeded")]
    assert webhook.transitions.first().created_at == long_ago  # when the lost attempt claimed it


@override_settings(NOTIFICATIONS_CLAIM_LEASE_SECONDS=60)
def test_a_live_claim_is_not_taken_over(receiver, webhook):
    Delivery.objects.filter(pk=webhook.pk).update(status=Delivery.Status.SENDING, claim_token="busy-worker:0",
                                                  claimed_at=timezone.now(), attempts=1)
    assert deliver.delay(webhook.pk).result == "busy"
    assert receiver.requests == []


@override_settings(EVENT_INBOX_RETENTION_DAYS=30)
def test_applied_events_are_forgotten_after_the_inbox_retention():
    old, recent = EnvelopeFactory(), EnvelopeFactory()
    for envelope in (old, recent):
        event_apply(consumer=consumer_get("notifications"), envelope=envelope)
    InboxEvent.objects.filter(event_id=old["id"]).update(applied_at=timezone.now() - dt.timedelta(days=31))
    assert inbox_purge.delay().result == 1
    assert [str(e) for e in InboxEvent.objects.values_list("event_id", flat=True)] == [recent["id"]]
