import uuid

import pytest
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from apps.common.http.backpressure import probe
from apps.common.models import OutboxEvent


@pytest.fixture(autouse=True)
def _fresh_probe():
    probe.reset()
    yield
    probe.reset()


def fill_outbox(count):
    """A backlog: events written but not published (the relay is behind or down)."""
    OutboxEvent.objects.bulk_create([
        OutboxEvent(event_type="tests.thing_happened", aggregate_id=str(uuid.uuid4()), occurred_at=timezone.now(),
                    data={}) for _ in range(count)])


@pytest.mark.django_db(transaction=True)
def test_writes_are_shed_with_503_while_the_outbox_backlog_is_past_its_limit_and_reads_work(
        customer_client, settings):
    settings.BACKPRESSURE_OUTBOX_LIMIT = 2
    fill_outbox(3)
    response = customer_client.post("/api/v1/orders/", {"lines": []}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "overloaded"
    assert int(response["Retry-After"]) > 0
    assert customer_client.get("/api/v1/orders/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_writes_go_through_below_the_limit(customer_client, settings):
    settings.BACKPRESSURE_OUTBOX_LIMIT = 10
    fill_outbox(3)
    response = customer_client.post("/api/v1/orders/", {"lines": []}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 400  # reached the view: a validation error, not shed
    assert response.json()["code"] == "validation_error"


@pytest.mark.django_db
def test_a_body_over_the_limit_gets_413(customer_client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = customer_client.post("/api/v1/orders/", {"note": "x" * 2000}, format="json",
                                    HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


@pytest.mark.django_db
def test_each_user_is_throttled_with_429_and_retry_after(customer_client, other_customer, monkeypatch):
    from rest_framework.test import APIClient

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "3/minute"})
    statuses = [customer_client.get("/api/v1/orders/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = customer_client.get("/api/v1/orders/")
    assert throttled.json()["code"] == "throttled" and int(throttled["Retry-After"]) > 0
    other = APIClient()
    other.force_authenticate(other_customer)
    assert other.get("/api/v1/orders/").status_code == 200  # another user has a budget of their own


@pytest.mark.django_db(databases="__all__")
def test_the_budget_comes_back_with_the_next_window(api_client, monkeypatch):
    from django.core.cache import cache

    now = [1_000_000.0]
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": "2/minute"})
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: now[0])
    assert [api_client.get("/api/v1/products/").status_code for _ in range(3)] == [200, 200, 429]
    throttled = api_client.get("/api/v1/products/")
    # The window of 60 s started at 999_960 (1_000_000 rounded down to a minute): 20 s remain.
    assert throttled.status_code == 429 and throttled["Retry-After"] == "20"
    now[0] += 20
    assert api_client.get("/api/v1/products/").status_code == 200
    # One counter per client and window, not a list of timestamps that grows with the rate.
    assert cache.get(f"throttle_anon_127.0.0.1:{int(now[0] // 60)}") == 1
