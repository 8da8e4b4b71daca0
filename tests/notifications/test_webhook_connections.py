"""Webhooks reuse their connection to a receiver (keep-alive), and the SSRF guard still decides
every send: a kept connection serves only while its host's address and its own peer are allowed."""

import socket

import pytest
from django.test import override_settings

from apps.notifications.models import Channel, Delivery
from apps.notifications.ssrf import UnsafeDestination, webhook_session
from apps.notifications.tasks import deliver
from tests.notifications.factories import DeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

HOST = "hooks.example.test"


def webhook_to(url: str) -> Delivery:
    endpoint = WebhookEndpointFactory(url=url, event_types=["orders.order_placed"])
    return DeliveryFactory(channel=Channel.WEBHOOK, recipient=str(endpoint.pk), endpoint=endpoint,
                           payload={"body": '{"type":"orders.order_placed"}'})


def delivered(delivery: Delivery) -> Delivery:
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    return delivery


@pytest.fixture
def dns(monkeypatch):
    """HOST resolves to whatever address the test sets; other names as usual."""
    answer = {"address": "127.0.0.1"}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == HOST:
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (answer["address"], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answer


@override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"])
def test_webhooks_to_one_receiver_share_one_connection(keep_alive_receiver):
    # Given two deliveries to the same receiver
    url = f"{keep_alive_receiver.url}/hooks"
    first, second = webhook_to(url), webhook_to(url)
    # When both are delivered
    statuses = [delivered(first).status, delivered(second).status]
    # Then both arrived, each with its own id and signature, over one TCP connection
    assert statuses == [Delivery.Status.DELIVERED] * 2
    assert [request.headers["webhook-id"] for request in keep_alive_receiver.requests] == [
        str(first.event_id), str(second.event_id)]
    assert all(request.headers["webhook-signature"].startswith("v1,") for request in keep_alive_receiver.requests)
    assert keep_alive_receiver.connections == 1


def test_a_kept_connection_is_not_reused_once_its_address_is_forbidden(keep_alive_receiver):
    # Given a webhook delivered over a kept connection while loopback was allowed
    url = f"{keep_alive_receiver.url}/hooks"
    with override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"]):
        assert delivered(webhook_to(url)).status == Delivery.Status.DELIVERED
    # When the next one is sent under the default policy
    later = delivered(webhook_to(url))
    # Then it is refused for good and never reaches the receiver
    assert later.status == Delivery.Status.DEAD
    assert "non-public address (127.0.0.1)" in later.last_error
    assert len(keep_alive_receiver.requests) == 1


def test_the_kept_connection_itself_refuses_a_peer_no_longer_allowed(keep_alive_receiver):
    # Given a kept connection to a loopback receiver, opened while loopback was allowed
    url = f"{keep_alive_receiver.url}/hooks"
    with override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"]):
        webhook_session().post(url, data=b"{}", timeout=5).close()
    # When a request is made on the session without the URL check (what a check raced by DNS leaves)
    with pytest.raises(UnsafeDestination, match=r"connected to a non-public address \(127\.0\.0\.1\)"):
        webhook_session().post(url, data=b"{}", timeout=5)
    # Then only the first request reached the receiver
    assert len(keep_alive_receiver.requests) == 1


@override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.1/32"])
def test_a_host_whose_dns_answer_turned_internal_is_refused_despite_its_kept_connection(keep_alive_receiver, dns):
    # Given a webhook delivered to a host name over a kept connection to an allowed address
    url = f"http://{HOST}:{keep_alive_receiver.server.server_port}/hooks"
    assert delivered(webhook_to(url)).status == Delivery.Status.DELIVERED
    # When the host's DNS answer changes to a forbidden address
    dns["address"] = "10.0.0.7"
    later = delivered(webhook_to(url))
    # Then the kept connection is not used for it: the send is refused
    assert later.status == Delivery.Status.DEAD
    assert "non-public address (10.0.0.7)" in later.last_error
    assert len(keep_alive_receiver.requests) == 1


@override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.1/32"])
def test_a_host_that_moved_to_another_allowed_address_gets_a_new_connection(keep_alive_receiver, dns):
    # Given a kept connection to the host's address at the time, 127.0.0.1
    url = f"http://{HOST}:{keep_alive_receiver.server.server_port}/hooks"
    assert delivered(webhook_to(url)).status == Delivery.Status.DELIVERED
    # When 127.0.0.1 is no longer allowed and the host now resolves to 127.0.0.2 (allowed, nobody listens)
    dns["address"] = "127.0.0.2"
    with override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.2/32"]):
        later = delivered(webhook_to(url))
    # Then the send went to the new address (refused there, retried later), not down the kept connection
    assert later.status == Delivery.Status.FAILED
    assert "cannot reach the endpoint" in later.last_error
    assert len(keep_alive_receiver.requests) == 1


@override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"])
def test_a_cookie_a_receiver_sets_is_never_sent_back(keep_alive_receiver):
    keep_alive_receiver.replies = [{"status": 200, "headers": {"Set-Cookie": "session=abc; Path=/"}}]
    url = f"{keep_alive_receiver.url}/hooks"
    delivered(webhook_to(url))
    delivered(webhook_to(url))
    assert [request.headers.get("cookie") for request in keep_alive_receiver.requests] == [None, None]


@override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"])
def test_a_long_answer_is_cut_to_its_excerpt_and_costs_its_connection(keep_alive_receiver):
    # Given a receiver whose first answer is 200 KB long
    keep_alive_receiver.replies = [{"status": 200, "body": b"x" * 200_000}]
    url = f"{keep_alive_receiver.url}/hooks"
    # When two webhooks are sent
    first, second = delivered(webhook_to(url)), delivered(webhook_to(url))
    # Then both are delivered, the first recorded with the start of its answer only, and the second
    # went over a new connection (the long answer was not read to its end)
    assert [first.status, second.status] == [Delivery.Status.DELIVERED] * 2
    assert first.attempt_rows.get().response_excerpt == "x" * 500
    assert keep_alive_receiver.connections == 2


@override_settings(NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"], NOTIFICATIONS_WEBHOOK_KEEPALIVE_SECONDS=0)
def test_a_connection_idle_longer_than_the_keep_alive_is_not_reused(keep_alive_receiver):
    url = f"{keep_alive_receiver.url}/hooks"
    delivered(webhook_to(url))
    delivered(webhook_to(url))
    assert len(keep_alive_receiver.requests) == 2
    assert keep_alive_receiver.connections == 2
