"""Staff in the admin: deliveries by status, channel and event type; dead letters with replay;
webhook endpoints through the same checks as the API."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from apps.notifications.models import Channel, Delivery, WebhookEndpoint
from tests.notifications.factories import DeliveryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_():
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1")
    client = Client()
    client.force_login(user)
    return client


def test_deliveries_can_be_filtered_by_status_channel_and_event_type(admin_client_):
    DeliveryFactory(dead=True, channel=Channel.EMAIL, recipient="wanted@example.com", event_type="orders.order_shipped")
    DeliveryFactory(channel=Channel.EMAIL, recipient="pending@example.com", event_type="orders.order_shipped")
    DeliveryFactory(dead=True, channel=Channel.EMAIL, recipient="placed@example.com", event_type="orders.order_placed")
    page = admin_client_.get("/admin/notifications/delivery/", {
        "status__exact": "dead", "channel__exact": "email", "event_type": "orders.order_shipped"}).content.decode()
    assert "wanted@example.com" in page
    assert "pending@example.com" not in page and "placed@example.com" not in page


def test_the_dead_letters_page_lists_only_dead_deliveries_and_replays_them(admin_client_):
    dead = DeliveryFactory(dead=True, recipient="dead@example.com")
    DeliveryFactory(recipient="alive@example.com")
    page = admin_client_.get("/admin/notifications/deaddelivery/").content.decode()
    assert "dead@example.com" in page and "alive@example.com" not in page
    assert "Dead letters:" in page  # the queue depth and the dead count, as a message
    response = admin_client_.post("/admin/notifications/deaddelivery/", {
        "action": "replay_dead", "_selected_action": [dead.pk]}, follow=True)
    assert "Replayed 1 dead deliveries." in response.content.decode()
    dead.refresh_from_db()
    assert dead.status == Delivery.Status.PENDING
    assert dead.transitions.get().reason == "replayed by root"


def test_an_internal_webhook_url_is_refused_in_the_admin_too(admin_client_):
    owner = get_user_model().objects.get(username="root")
    response = admin_client_.post("/admin/notifications/webhookendpoint/add/", {
        "url": "http://169.254.169.254/latest", "description": "", "event_types": "orders.order_placed",
        "owner": owner.pk, "is_active": "on"})
    assert response.status_code == 200  # the form again, with the error
    assert "non-public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_added_in_the_admin_shows_its_secret_once(admin_client_):
    owner = get_user_model().objects.get(username="root")
    response = admin_client_.post("/admin/notifications/webhookendpoint/add/", {
        "url": "https://93.184.215.14/hooks", "description": "ERP", "event_types": "orders.order_placed, *",
        "owner": owner.pk, "is_active": "on"}, follow=True)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["*", "orders.order_placed"]
    assert f"Signing secret (shown once, store it now): {endpoint.secret}" in response.content.decode()


def test_the_replay_command_replays_dead_deliveries(capsys):
    webhook = DeliveryFactory(dead=True, channel=Channel.WEBHOOK, recipient="x", payload={"body": "{}"})
    email = DeliveryFactory(dead=True)
    call_command("notifications_replay", "--channel", "webhook")
    assert "Replayed 1 dead deliveries." in capsys.readouterr().out
    webhook.refresh_from_db()
    email.refresh_from_db()
    assert (webhook.status, email.status) == (Delivery.Status.PENDING, Delivery.Status.DEAD)


def test_staff_reading_a_reset_email_delivery_do_not_see_its_link(admin_client_):
    link = "https://shop.example.com/reset?uid=MQ&token=secret-one-time-token"
    reset = DeliveryFactory(event_type="accounts.password_reset_requested",
                            payload={"subject": "Reset your password", "text": link, "html": link})
    shipped = DeliveryFactory(event_type="orders.order_shipped",
                              payload={"subject": "Your order is on its way", "text": "Tracking: T-123", "html": ""})
    reset_page = admin_client_.get(f"/admin/notifications/delivery/{reset.pk}/change/").content.decode()
    shipped_page = admin_client_.get(f"/admin/notifications/delivery/{shipped.pk}/change/").content.decode()
    assert "secret-one-time-token" not in reset_page
    assert "withheld" in reset_page
    assert "Tracking: T-123" in shipped_page
