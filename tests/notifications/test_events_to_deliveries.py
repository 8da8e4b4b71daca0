"""The notifications consumer turns each event into one delivery per channel and recipient."""

import pytest
from django.core import mail
from django.test import override_settings

from apps.common.messaging.consumers import InvalidEvent, consumer_get, event_apply
from apps.notifications.models import Channel, Delivery, InboxEvent
from tests.notifications.factories import (
    EnvelopeFactory,
    OrderCancelledDataFactory,
    OrderEventDataFactory,
    OrderPlacedDataFactory,
    OrderRefundedDataFactory,
    OrderShippedDataFactory,
    PaymentFailedDataFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


def notify(envelope):
    return event_apply(consumer=consumer_get("notifications"), envelope=envelope)


def test_an_order_placed_event_emails_the_customer_a_confirmation(django_capture_on_commit_callbacks):
    # Given an order placed by buyer@example.com
    envelope = EnvelopeFactory(data__email="Buyer@Example.com", data__number="ORD-000042")
    # When the notifications consumer applies it
    with django_capture_on_commit_callbacks(execute=True):
        notify(envelope)
    # Then the customer got one confirmation email, in plain text and HTML, listing the order
    (message,) = mail.outbox
    assert message.to == ["buyer@example.com"]
    assert message.subject == "Commerce: order ORD-000042 confirmed"
    assert "3 x Blue mug (MUG-BLUE)  59.97 EUR" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<strong>ORD-000042</strong>" in html
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.status, delivery.attempts) == (Channel.EMAIL, Delivery.Status.DELIVERED, 1)


def test_a_shipped_order_with_a_phone_gets_an_email_and_an_sms(django_capture_on_commit_callbacks, capsys):
    envelope = EnvelopeFactory(type="orders.order_shipped", data=OrderShippedDataFactory(number="ORD-7"))
    with django_capture_on_commit_callbacks(execute=True):
        notify(envelope)
    deliveries = {d.channel: d for d in Delivery.objects.all()}
    assert set(deliveries) == {Channel.EMAIL, Channel.SMS}
    assert deliveries[Channel.SMS].recipient == "+4915123456789"
    assert all(d.status == Delivery.Status.DELIVERED for d in deliveries.values())
    # The console SMS gateway (the default) printed the text message
    assert "SMS to +4915123456789" in capsys.readouterr().out
    assert mail.outbox[0].subject == "Commerce: order ORD-7 has shipped"


def test_a_shipped_order_without_a_phone_gets_no_sms():
    notify(EnvelopeFactory(type="orders.order_shipped", data=OrderShippedDataFactory(phone="")))
    assert list(Delivery.objects.values_list("channel", flat=True)) == [Channel.EMAIL]


@override_settings(NOTIFICATIONS_STAFF_EMAILS=["ops@shop.example", "Finance@Shop.example"])
def test_a_failed_payment_emails_the_staff_not_the_customer(django_capture_on_commit_callbacks):
    envelope = EnvelopeFactory(type="payments.payment_failed", data=PaymentFailedDataFactory(amount="120.50"))
    with django_capture_on_commit_callbacks(execute=True):
        notify(envelope)
    assert sorted(m.to[0] for m in mail.outbox) == ["finance@shop.example", "ops@shop.example"]
    assert all("120.50 EUR" in m.subject for m in mail.outbox)


def test_webhooks_go_only_to_active_endpoints_subscribed_to_the_type():
    subscribed = WebhookEndpointFactory(event_types=["orders.order_cancelled"])
    everything = WebhookEndpointFactory(event_types=["*"])
    WebhookEndpointFactory(event_types=["orders.order_placed"])
    WebhookEndpointFactory(event_types=["orders.order_cancelled"], is_active=False)
    notify(EnvelopeFactory(type="orders.order_cancelled", data=OrderCancelledDataFactory()))
    webhooks = Delivery.objects.filter(channel=Channel.WEBHOOK)
    assert {d.endpoint_id for d in webhooks} == {subscribed.pk, everything.pk}


def test_the_same_event_applied_twice_makes_one_delivery_per_recipient():
    WebhookEndpointFactory(event_types=["orders.order_shipped"])
    envelope = EnvelopeFactory(type="orders.order_shipped", data=OrderShippedDataFactory())
    assert notify(envelope) is True
    assert notify(dict(envelope)) is False  # redelivered
    assert sorted(Delivery.objects.values_list("channel", flat=True)) == ["email", "sms", "webhook"]
    assert InboxEvent.objects.get(event_id=envelope["id"]).redeliveries == 1


def test_an_event_applied_again_after_its_inbox_row_was_purged_makes_only_the_deliveries_it_lacks():
    # Given a shipped order notified by email, SMS and one webhook, whose inbox row is then purged
    WebhookEndpointFactory(event_types=["orders.order_shipped"])
    envelope = EnvelopeFactory(type="orders.order_shipped", data=OrderShippedDataFactory())
    notify(envelope)
    InboxEvent.objects.all().delete()
    # When it comes back (a replay from the archive) after a second endpoint subscribed
    later = WebhookEndpointFactory(event_types=["orders.order_shipped"])
    assert notify(dict(envelope)) is True
    # Then only the new endpoint gets a delivery; each delivery has the audit row of its creation
    assert sorted(Delivery.objects.values_list("channel", flat=True)) == ["email", "sms", "webhook", "webhook"]
    assert Delivery.objects.filter(endpoint=later).count() == 1
    for delivery in Delivery.objects.all():
        assert list(delivery.transitions.values_list("from_status", "to_status", "reason")) == [
            ("", "pending", "created from the event")]


def test_fields_the_consumer_does_not_know_are_tolerated():
    envelope = EnvelopeFactory(data__loyalty_points=120, data__gift_wrap={"paper": "red"})
    notify(envelope)
    assert Delivery.objects.get().payload["subject"].endswith("confirmed")


def test_an_event_that_breaks_its_schema_is_refused_and_leaves_nothing_behind():
    envelope = EnvelopeFactory(data__total=12.5)  # money travels as a decimal string, never a float
    with pytest.raises(InvalidEvent, match="breaks its schema"):
        notify(envelope)
    assert not Delivery.objects.exists()
    assert not InboxEvent.objects.exists()


@pytest.mark.parametrize(("event_type", "data_factory", "subject"), [
    ("orders.order_placed", OrderPlacedDataFactory, "Commerce: order ORD-1 confirmed"),
    ("orders.order_shipped", OrderShippedDataFactory, "Commerce: order ORD-1 has shipped"),
    ("orders.order_cancelled", OrderCancelledDataFactory, "Commerce: order ORD-1 cancelled"),
    ("orders.order_refunded", OrderRefundedDataFactory, "Commerce: refund of 19.99 EUR for order ORD-1"),
])
def test_the_customer_is_emailed_on_each_order_milestone(event_type, data_factory, subject,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(EnvelopeFactory(type=event_type, data=data_factory(number="ORD-1", email="c@example.com")))
    emails = [m for m in mail.outbox if m.to == ["c@example.com"]]
    assert [m.subject for m in emails] == [subject]


def test_an_order_paid_event_emails_nobody():
    notify(EnvelopeFactory(type="orders.order_paid", data=OrderEventDataFactory(
        payment_id="8d7bc4b4-3f5c-4a0e-9f49-3f1f4a3c2a10", amount="59.97")))
    assert not Delivery.objects.exists()
