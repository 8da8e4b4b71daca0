"""Webhook URLs may not reach inside our network: refused at registration and again at send."""

import pytest
from django.test import override_settings

from apps.notifications.models import Delivery, WebhookEndpoint
from apps.notifications.services.endpoints import webhook_endpoint_create
from apps.notifications.ssrf import UnsafeDestination, guarded_session, url_check
from apps.notifications.tasks import deliver
from tests.notifications.factories import DeliveryFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/notifications/webhook-endpoints/"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook",  # loopback
    "http://localhost/hook",  # a name for loopback
    "http://[::1]/hook",  # IPv6 loopback
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://10.1.2.3/hook",  # private
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
    "http://[fe80::1]/hook",
    "http://224.0.0.1/hook",  # multicast
    "http://240.0.0.1/hook",  # reserved
    "http://0.0.0.0/hook",  # unspecified
    "http://no-such-host.invalid/hook",  # does not resolve
    "ftp://93.184.215.14/hook",  # not http(s)
])
def test_registering_a_url_that_reaches_inside_is_refused(staff_client, url):
    response = staff_client.post(URL, {"url": url, "event_types": ["orders.order_placed"]}, format="json")
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "webhook_url_refused"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["http://2130706433/", "http://0x7f.1/", "http://017700000001/"])
def test_loopback_in_unusual_spellings_is_refused_too(url):
    # The API's URL validation already rejects these; the guard must not rely on that.
    with pytest.raises(UnsafeDestination, match=r"non-public address \(127\.0\.0\.1\)"):
        url_check(url)


def test_a_public_address_is_accepted(staff_client):
    response = staff_client.post(URL, {"url": "https://93.184.215.14/hook", "event_types": ["orders.order_placed"]},
                                 format="json")
    assert response.status_code == 201, response.content


def test_a_url_that_became_internal_is_refused_at_send_and_never_contacted(receiver, staff):
    # Given an endpoint registered while its address was allowed
    with override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"]):
        endpoint, _ = webhook_endpoint_create(owner=staff, url=f"{receiver.url}/hook",
                                              event_types=["orders.order_placed"])
    delivery = DeliveryFactory(channel="webhook", recipient=str(endpoint.pk), endpoint=endpoint,
                               payload={"body": "{}"})
    # When it is delivered under the default policy
    deliver.delay(delivery.pk)
    # Then nothing reached the receiver and the delivery is dead, not retried
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DEAD
    assert "non-public address (127.0.0.1)" in delivery.last_error


def test_the_connection_itself_refuses_a_non_public_peer(receiver):
    # What stops a DNS answer that changes between the check and the connect (rebinding)
    with pytest.raises(UnsafeDestination, match="connected to a non-public address"), guarded_session() as session:
        session.post(f"{receiver.url}/hook", data=b"{}", timeout=5)
    assert receiver.requests == []
