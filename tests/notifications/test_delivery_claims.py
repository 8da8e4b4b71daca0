"""The claim on a delivery decides who sets its status: an attempt presumed dead that finishes
after another took the claim over records what the receiver answered it, and changes nothing
else; the endpoint's failure count is reset by a success."""

import threading

import pytest
from django.db import connections
from django.test import override_settings

from apps.notifications.models import Channel, Delivery
from apps.notifications.outcomes import AttemptKind
from apps.notifications.services.delivery import delivery_deliver
from tests.concurrency import race
from tests.notifications.factories import DeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.usefixtures("loopback_allowed")


def webhook_delivery(receiver, **endpoint_fields):
    endpoint = WebhookEndpointFactory(url=f"{receiver.url}/hooks", **endpoint_fields)
    return DeliveryFactory(channel=Channel.WEBHOOK, recipient=str(endpoint.pk), endpoint=endpoint,
                           payload={"body": '{"type":"orders.order_placed"}'})


@pytest.mark.django_db(transaction=True)
@override_settings(NOTIFICATIONS_CLAIM_LEASE_SECONDS=0)
def test_an_attempt_that_lost_its_claim_records_its_answer_and_leaves_the_status_to_the_new_holder(receiver):
    # Given a webhook delivery whose first attempt hangs at the receiver
    delivery = webhook_delivery(receiver)
    hold = threading.Event()
    receiver.replies = [{"status": 200, "hold": hold}]
    late = {}

    def first_attempt():
        try:
            late["outcome"] = delivery_deliver(delivery_id=delivery.pk, claim="first:0")
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_attempt)
    thread.start()
    assert receiver.first_request.wait(10)

    # When its lease runs out and a second attempt takes the claim over and delivers it
    second = delivery_deliver(delivery_id=delivery.pk, claim="second:0")
    # and only then the first attempt gets its answer
    hold.set()
    thread.join(30)

    # Then the delivery was delivered once, by the second attempt, and the first one changed no status
    assert second.kind is AttemptKind.DELIVERED
    assert late["outcome"].kind is AttemptKind.SKIPPED
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claim_token, delivery.attempts) == (Delivery.Status.DELIVERED, "second:0", 2)
    assert list(delivery.transitions.values_list("from_status", "to_status")) == [
        ("pending", "sending"), ("sending", "failed"), ("failed", "sending"), ("sending", "delivered")]
    # and both attempts show what the receiver answered them (the first is no longer "interrupted")
    assert list(delivery.attempt_rows.values_list("number", "outcome", "status_code")) == [
        (1, "success", 200), (2, "success", 200)]
    assert len(receiver.requests) == 2


@pytest.mark.django_db
def test_a_success_resets_a_failing_endpoints_count_and_leaves_a_healthy_one_alone(receiver):
    failing = webhook_delivery(receiver, consecutive_failures=3)
    healthy = webhook_delivery(receiver)

    for delivery in (failing, healthy):
        assert delivery_deliver(delivery_id=delivery.pk, claim=f"{delivery.pk}:0").kind is AttemptKind.DELIVERED

    for delivery in (failing, healthy):
        delivery.endpoint.refresh_from_db()
        assert (delivery.endpoint.consecutive_failures, delivery.endpoint.failing_since) == (0, None)


@pytest.mark.django_db
def test_the_claims_audit_row_is_dated_when_the_claim_was_made(receiver):
    # Given a receiver that takes a moment to answer
    receiver.replies = [{"status": 200, "delay": 0.2}]
    delivery = webhook_delivery(receiver)
    # When it is delivered
    assert delivery_deliver(delivery_id=delivery.pk, claim="only:0").kind is AttemptKind.DELIVERED
    # Then its history shows the claim when it was made, then the delivery once answered
    delivery.refresh_from_db()
    claimed, delivered = delivery.transitions.all()
    assert (claimed.from_status, claimed.to_status, claimed.reason) == ("pending", "sending", "attempt 1")
    assert claimed.created_at == delivery.claimed_at < delivered.created_at
    assert (delivered.from_status, delivered.to_status) == ("sending", "delivered")


@pytest.mark.django_db(transaction=True)
def test_copies_of_a_task_racing_for_one_delivery_send_it_once(receiver):
    # Given webhook deliveries, each about to be attempted by three copies of its task at once
    for _ in range(3):
        delivery = webhook_delivery(receiver)
        receiver.requests.clear()
        # When they race for it
        outcomes = race(3, lambda i, pk=delivery.pk: delivery_deliver(delivery_id=pk, claim=f"copy-{i}:0").kind)
        # Then one of them sent it and the others were told to come back later (or found it done)
        assert outcomes.count(AttemptKind.DELIVERED) == 1, outcomes
        assert set(outcomes) <= {AttemptKind.DELIVERED, AttemptKind.BUSY, AttemptKind.SKIPPED}
        assert len(receiver.requests) == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (Delivery.Status.DELIVERED, 1)
        assert list(delivery.transitions.values_list("to_status", flat=True)) == ["sending", "delivered"]
        assert list(delivery.attempt_rows.values_list("number", "outcome")) == [(1, "success")]
