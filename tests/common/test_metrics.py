import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.common.models import OutboxEvent


def scrape(client, staff=None):
    if staff is not None:
        client.force_login(staff)  # /metrics is a plain Django view: a real session
    response = client.get("/metrics")
    assert response.status_code == 200
    return response, response.content.decode()


@pytest.mark.django_db
def test_metrics_are_refused_to_anonymous_and_customers(api_client, customer_client):
    assert api_client.get("/metrics").status_code == 401
    assert customer_client.get("/metrics").status_code == 401


@pytest.mark.django_db
def test_metrics_accept_the_metrics_token(api_client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token").status_code == 200


@pytest.mark.django_db
def test_metrics_accept_a_staff_api_token_and_no_other(api_client, staff, customer):
    # Given the API tokens a staff member and a customer use with the API
    staff_token, customer_token = Token.objects.create(user=staff), Token.objects.create(user=customer)
    # Then the staff token reads the metrics, the customer's and an unknown one do not
    assert api_client.get("/metrics", HTTP_AUTHORIZATION=f"Token {staff_token.key}").status_code == 200
    assert api_client.get("/metrics", HTTP_AUTHORIZATION=f"Token {customer_token.key}").status_code == 401
    assert api_client.get("/metrics", HTTP_AUTHORIZATION="Token 0123456789abcdef").status_code == 401


@pytest.mark.django_db
def test_requests_are_counted_by_route_template_method_and_status(client, staff, customer_client):
    order_id = uuid.uuid4()
    customer_client.get(f"/api/v1/orders/{order_id}/")  # 404 for an order that does not exist
    _, body = scrape(client, staff)
    # (The counters are the process's: earlier tests may have counted other 404s on orders routes.)
    lines = [line for line in body.splitlines() if line.startswith("http_requests_total{")
             and 'method="GET"' in line and 'status="404"' in line and "orders" in line]
    assert any("orders/(?P<pk>" in line for line in lines)  # the template,
    assert str(order_id) not in body  # not the concrete id
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET",route=' in body


@pytest.mark.django_db(transaction=True)
def test_outbox_backlog_and_oldest_age_are_reported(client, staff):
    # Given three events the relay has not published (it is behind or down)
    OutboxEvent.objects.bulk_create([
        OutboxEvent(event_type="tests.thing_happened", aggregate_id=str(uuid.uuid4()),
                    occurred_at=timezone.now() - timedelta(seconds=30), data={}) for _ in range(3)])
    _, body = scrape(client, staff)
    assert "outbox_pending_events 3.0" in body
    age = float(next(line for line in body.splitlines()
                     if line.startswith("outbox_oldest_pending_age_seconds ")).split()[1])
    assert age >= 30


@pytest.mark.django_db
def test_queue_depths_come_from_the_broker(client, staff):
    from config.celery_app import declare_dead_letter_topology

    declare_dead_letter_topology()
    _, body = scrape(client, staff)
    assert 'queue_depth_messages{queue="default.dead"}' in body


def test_staff_without_the_metrics_permission_are_refused(client, staff_with):
    # Given a staff member whose role does not include reading the metrics (e.g. Support)
    support = staff_with("orders.view_order")
    client.force_login(support)
    # Then /metrics answers 403 and says which permission is missing
    response = client.get("/metrics")
    assert response.status_code == 403 and b"common.view_metrics" in response.content
