"""Webhook endpoints, deliveries and dead letters need their permissions, in the API and the admin."""

import pytest
from django.test import Client

from apps.notifications.models import Delivery, WebhookEndpoint
from tests.conftest import client_of
from tests.notifications.factories import DeliveryFactory, WebhookEndpointFactory
from tests.notifications.test_api import DELIVERIES, ENDPOINTS, PUBLIC_URL

pytestmark = pytest.mark.django_db


def assert_denied(response, permission):
    assert (response.status_code, response["Content-Type"]) == (403, "application/problem+json")
    assert response.json()["code"] == "permission_denied" and permission in response.json()["detail"]


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_webhook_endpoints_are_read_with_view_and_written_with_manage_webhooks(staff_with):
    endpoint = WebhookEndpointFactory()
    body = {"url": PUBLIC_URL, "event_types": ["orders.order_placed"]}
    nobody = client_of(staff_with())
    assert_denied(nobody.get(ENDPOINTS), "notifications.view_webhookendpoint")

    viewer = client_of(staff_with("notifications.view_webhookendpoint"))
    assert viewer.get(f"{ENDPOINTS}{endpoint.pk}/").status_code == 200
    assert_denied(viewer.post(ENDPOINTS, body, format="json"), "notifications.manage_webhooks")
    assert_denied(viewer.patch(f"{ENDPOINTS}{endpoint.pk}/", {"is_active": False}, format="json"),
                  "notifications.manage_webhooks")
    assert_denied(viewer.post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/"), "notifications.manage_webhooks")
    assert_denied(viewer.delete(f"{ENDPOINTS}{endpoint.pk}/"), "notifications.manage_webhooks")
    assert WebhookEndpoint.objects.count() == 1 and WebhookEndpoint.objects.get().is_active

    developer = client_of(staff_with("notifications.manage_webhooks"))
    assert developer.post(ENDPOINTS, body, format="json").status_code == 201
    assert developer.delete(f"{ENDPOINTS}{endpoint.pk}/").status_code == 204


def test_deliveries_and_dead_letters_need_view_and_replay_needs_replay_delivery(staff_with):
    dead = DeliveryFactory(dead=True)
    nobody = client_of(staff_with())
    assert_denied(nobody.get(DELIVERIES), "notifications.view_delivery")
    assert_denied(nobody.get("/api/v1/notifications/dead-letters/"), "notifications.view_delivery")

    viewer = client_of(staff_with("notifications.view_delivery"))
    assert viewer.get(f"{DELIVERIES}{dead.pk}/").status_code == 200
    assert_denied(viewer.post(f"{DELIVERIES}{dead.pk}/replay/"), "notifications.replay_delivery")
    assert_denied(viewer.post(f"{DELIVERIES}replay-dead/", {}, format="json"), "notifications.replay_delivery")
    assert Delivery.objects.get().status == Delivery.Status.DEAD

    support = client_of(staff_with("notifications.replay_delivery"))
    assert support.post(f"{DELIVERIES}{dead.pk}/replay/").status_code == 202
    assert Delivery.objects.get().status != Delivery.Status.DEAD


def test_the_replay_action_in_the_admin_needs_replay_delivery(staff_with):
    dead = DeliveryFactory(dead=True)
    changelist = "/admin/notifications/deaddelivery/"
    post = {"action": "replay_dead", "_selected_action": [dead.pk]}
    viewer = browser(staff_with("notifications.view_deaddelivery"))
    assert "replay_dead" not in viewer.get(changelist).content.decode()
    viewer.post(changelist, post)
    assert Delivery.objects.get().status == Delivery.Status.DEAD

    support = browser(staff_with("notifications.view_deaddelivery", "notifications.replay_delivery"))
    assert "replay_dead" in support.get(changelist).content.decode()
    support.post(changelist, post)
    assert Delivery.objects.get().status != Delivery.Status.DEAD


def test_webhook_endpoints_in_the_admin_need_manage_webhooks(staff_with):
    endpoint = WebhookEndpointFactory()
    viewer = browser(staff_with("notifications.view_webhookendpoint", "notifications.change_webhookendpoint",
                                "notifications.delete_webhookendpoint", "notifications.add_webhookendpoint"))
    delete = f"/admin/notifications/webhookendpoint/{endpoint.pk}/delete/"
    assert viewer.get("/admin/notifications/webhookendpoint/add/").status_code == 403
    assert viewer.post(delete, {"post": "yes"}).status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()

    developer = browser(staff_with("notifications.manage_webhooks"))
    assert developer.get("/admin/notifications/webhookendpoint/add/").status_code == 200
    developer.post(delete, {"post": "yes"})
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
