"""The staff API: webhook endpoints, deliveries with filters and replay, dead letters."""

import base64
import datetime as dt

import pytest
from django.utils import timezone
from kombu import Connection, Exchange, Producer

from apps.notifications.models import Channel, Delivery, WebhookEndpoint
from apps.notifications.tasks import deliver
from config.celery_app import app, declare_dead_letter_topology
from tests.notifications.factories import DeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db
ENDPOINTS = "/api/v1/notifications/webhook-endpoints/"
DELIVERIES = "/api/v1/notifications/deliveries/"
PUBLIC_URL = "https://93.184.215.14/hooks"


def create_endpoint(client, **body):
    response = client.post(ENDPOINTS, {"url": PUBLIC_URL, "event_types": ["orders.order_placed"], **body},
                           format="json")
    assert response.status_code == 201, response.content
    return response


def test_customers_cannot_see_or_register_webhook_endpoints(customer_client):
    assert customer_client.get(ENDPOINTS).status_code == 403
    response = customer_client.post(ENDPOINTS, {"url": PUBLIC_URL, "event_types": ["*"]}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert customer_client.get(DELIVERIES).status_code == 403


def test_the_signing_secret_is_shown_once_on_creation(staff_client, staff):
    created = create_endpoint(staff_client, description="ERP").json()
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32
    assert created["owner"] == staff.pk
    detail = staff_client.get(f"{ENDPOINTS}{created['id']}/")
    assert "secret" not in detail.json()
    assert detail["ETag"] == '"1"'
    assert all("secret" not in item for item in staff_client.get(ENDPOINTS).json()["results"])


def test_an_event_type_notifications_does_not_receive_is_refused(staff_client):
    response = staff_client.post(ENDPOINTS, {"url": PUBLIC_URL, "event_types": ["catalog.stock_changed"]},
                                 format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "webhook_event_type_not_routed"


def test_an_update_with_a_stale_etag_is_refused(staff_client):
    endpoint = create_endpoint(staff_client).json()
    url = f"{ENDPOINTS}{endpoint['id']}/"
    stale = staff_client.patch(url, {"description": "x"}, format="json", headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    fresh = staff_client.patch(url, {"event_types": ["orders.order_shipped", "*"], "is_active": False}, format="json",
                               headers={"If-Match": '"1"'})
    assert fresh.status_code == 200
    assert (fresh.json()["event_types"], fresh.json()["is_active"], fresh["ETag"]) == (
        ["*", "orders.order_shipped"], False, '"2"')


def test_if_match_star_matches_whatever_version_the_endpoint_is_at(staff_client):
    # Given an endpoint at version 2
    endpoint = create_endpoint(staff_client).json()
    url = f"{ENDPOINTS}{endpoint['id']}/"
    assert staff_client.patch(url, {"description": "a"}, format="json", headers={"If-Match": '"1"'}).status_code == 200
    assert staff_client.patch(url, {"description": "b"}, format="json", headers={"If-Match": '"1"'}).status_code == 412

    # When staff change it, rotate its secret and delete it, each with If-Match: *
    changed = staff_client.patch(url, {"description": "c"}, format="json", headers={"If-Match": "*"})
    rotated = staff_client.post(f"{url}rotate-secret/", headers={"If-Match": "*"})
    deleted = staff_client.delete(url, headers={"If-Match": "*"})

    # Then each goes through, whatever the version
    assert (changed.status_code, changed.json()["description"], changed["ETag"]) == (200, "c", '"3"')
    assert rotated.status_code == 200
    assert deleted.status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint["id"]).exists()
    assert staff_client.patch(url, {"description": "d"}, format="json", headers={"If-Match": "*"}).status_code == 404


def test_an_update_to_an_internal_url_is_refused(staff_client):
    endpoint = create_endpoint(staff_client).json()
    response = staff_client.patch(f"{ENDPOINTS}{endpoint['id']}/", {"url": "http://10.0.0.8/hooks"}, format="json")
    assert response.status_code == 422
    assert WebhookEndpoint.objects.get().url == PUBLIC_URL


def test_rotating_the_secret_shows_the_new_one_and_keeps_the_old_for_a_day(staff_client):
    endpoint = create_endpoint(staff_client).json()
    rotated = staff_client.post(f"{ENDPOINTS}{endpoint['id']}/rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != endpoint["secret"]
    row = WebhookEndpoint.objects.get()
    assert row.previous_secret == endpoint["secret"]
    assert dt.timedelta(hours=23) < row.previous_secret_expires_at - timezone.now() <= dt.timedelta(hours=24)


def test_deleting_an_endpoint_keeps_its_deliveries_as_history(staff_client):
    endpoint = WebhookEndpointFactory()
    delivery = DeliveryFactory(channel=Channel.WEBHOOK, recipient=str(endpoint.pk), endpoint=endpoint,
                               payload={"body": "{}"})
    assert staff_client.delete(f"{ENDPOINTS}{endpoint.pk}/").status_code == 204
    delivery.refresh_from_db()
    assert delivery.endpoint_id is None
    deliver.delay(delivery.pk)  # a delivery still pending then dies: there is no one to send to
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (Delivery.Status.DEAD, "the webhook endpoint was deleted")


def test_deliveries_are_filtered_by_status_channel_and_event_type(staff_client):
    wanted = DeliveryFactory(dead=True, channel=Channel.SMS, recipient="+4915100000001",
                             event_type="orders.order_shipped")
    DeliveryFactory(dead=True, channel=Channel.EMAIL, event_type="orders.order_shipped")
    DeliveryFactory(channel=Channel.SMS, recipient="+4915100000002", event_type="orders.order_shipped")
    DeliveryFactory(dead=True, channel=Channel.SMS, recipient="+4915100000003", event_type="orders.order_placed")
    response = staff_client.get(DELIVERIES, {"status": "dead", "channel": "sms", "event_type": "orders.order_shipped"})
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [wanted.pk]


def test_an_unknown_filter_value_is_a_validation_problem(staff_client):
    response = staff_client.get(DELIVERIES, {"status": "lost"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"


def test_a_delivery_shows_every_attempt_and_its_status_history(staff_client, receiver, loopback_allowed):
    endpoint = WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    receiver.replies = [{"status": 503}]
    delivery = DeliveryFactory(channel=Channel.WEBHOOK, recipient=str(endpoint.pk), endpoint=endpoint,
                               payload={"body": "{}"})
    deliver.delay(delivery.pk)
    deliver.delay(delivery.pk)
    body = staff_client.get(f"{DELIVERIES}{delivery.pk}/").json()
    assert body["status"] == "delivered"
    assert [(a["number"], a["outcome"], a["status_code"]) for a in body["attempt_history"]] == [
        (1, "transient", 503), (2, "success", 200)]
    assert all(a["duration_ms"] is not None for a in body["attempt_history"])
    assert [t["to_status"] for t in body["transitions"]] == ["sending", "failed", "sending", "delivered"]


def test_replaying_a_dead_delivery_sends_it_again(staff_client, staff, receiver, loopback_allowed,
                                                  django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(url=f"{receiver.url}/hooks")
    receiver.replies = [{"status": 404}]
    delivery = DeliveryFactory(channel=Channel.WEBHOOK, recipient=str(endpoint.pk), endpoint=endpoint,
                               payload={"body": "{}"})
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DEAD
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{DELIVERIES}{delivery.pk}/replay/")
    assert response.status_code == 202
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
    assert len(receiver.requests) == 2
    replay = delivery.transitions.get(from_status="dead")
    assert (replay.to_status, replay.actor) == ("pending", staff)


def test_replaying_a_delivery_that_is_not_dead_is_a_conflict(staff_client):
    delivery = DeliveryFactory()
    response = staff_client.post(f"{DELIVERIES}{delivery.pk}/replay/")
    assert response.status_code == 409
    assert response.json()["code"] == "delivery_not_replayable"


def test_replay_dead_replays_the_dead_ones_matching(staff_client):
    sms = DeliveryFactory(dead=True, channel=Channel.SMS, recipient="+4915100000001")
    email = DeliveryFactory(dead=True)
    response = staff_client.post(f"{DELIVERIES}replay-dead/", {"channel": "sms"}, format="json")
    assert (response.status_code, response.json()) == (202, {"replayed": 1})
    sms.refresh_from_db()
    email.refresh_from_db()
    assert (sms.status, email.status) == (Delivery.Status.PENDING, Delivery.Status.DEAD)


def test_staff_see_the_dead_letter_queue_depth(staff_client):
    # Given two messages dead-lettered to notifications.dead (as RabbitMQ does with a rejected task)
    declare_dead_letter_topology()
    # Publisher confirms: each publish returns once RabbitMQ has the message, so the depth read
    # next cannot run ahead of it.
    with Connection(app.conf.broker_url, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        channel.queue_purge("notifications.dead")
        producer = Producer(channel, exchange=Exchange("dead-letter", type="direct", durable=True))
        for delivery_id in (101, 102):
            producer.publish([[delivery_id], {}, {}], routing_key="notifications", serializer="json",
                             headers={"task": "notifications.deliver", "id": f"t{delivery_id}"})
    DeliveryFactory(dead=True)
    # When staff look
    body = staff_client.get("/api/v1/notifications/dead-letters/").json()
    # Then they see the queue's depth and the dead rows
    assert body == {"queue": "notifications.dead", "depth": 2, "dead_deliveries": 1}
