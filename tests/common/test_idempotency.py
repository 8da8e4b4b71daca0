import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from apps.common.http.idempotency import idempotency_keys_purge, request_fingerprint
from apps.common.models import IdempotencyKey
from apps.common.roles import ROLES
from tests.common import idempotency_urls

pytestmark = pytest.mark.urls("tests.common.idempotency_urls")
URL = "/api/v1/groups/"


def groups_created() -> int:
    """The endpoint's effects: the groups it created (the staff role groups exist from the start)."""
    return Group.objects.exclude(name__in=ROLES).count()


@pytest.fixture(autouse=True)
def _open_gate():
    idempotency_urls.gate.set()
    idempotency_urls.executions["count"] = 0
    yield
    idempotency_urls.gate.set()


def post(client, body, key="key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(URL, body, format="json", **headers)


@pytest.mark.django_db
def test_missing_key_is_a_400_problem(customer_client):
    response = post(customer_client, {"name": "a"}, key=None)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"
    assert groups_created() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "k" * 256, "caf\u00e9", "tab\there"])
def test_a_key_that_is_not_1_to_255_printable_ascii_characters_is_a_400_problem(customer_client, key):
    response = post(customer_client, {"name": "a"}, key=key)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"
    assert groups_created() == 0


@pytest.mark.django_db
def test_a_retry_gets_the_stored_response_and_has_no_second_effect(customer_client):
    first = post(customer_client, {"name": "a"})
    again = post(customer_client, {"name": "a"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert "Idempotent-Replayed" not in first
    assert groups_created() == 1


@pytest.mark.django_db
def test_the_fingerprint_ignores_key_order_and_whitespace(customer_client):
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    post(customer_client, {"name": "a", "x": 1})
    assert post(customer_client, {"x": 1, "name": "a"})["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_same_key_with_another_body_is_a_422(customer_client):
    post(customer_client, {"name": "a"})
    response = post(customer_client, {"name": "b"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert groups_created() == 1


@pytest.mark.django_db
def test_keys_are_scoped_to_the_caller(customer_client, other_customer):
    other = APIClient()
    other.force_authenticate(other_customer)
    post(customer_client, {"name": "a"})
    response = post(other, {"name": "a"})
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert groups_created() == 2


@pytest.mark.django_db
def test_a_server_error_is_stored_and_replayed_not_re_executed(customer_client):
    customer_client.raise_request_exception = False
    first = post(customer_client, {"name": "a", "explode": True})
    again = post(customer_client, {"name": "a", "explode": True})
    assert first.status_code == again.status_code == 500
    assert again["Content-Type"] == "application/problem+json"
    assert again["Idempotent-Replayed"] == "true"
    assert idempotency_urls.executions["count"] == 1


@pytest.mark.django_db(transaction=True)
def test_same_key_while_the_first_request_runs_is_a_409(customer):
    idempotency_urls.gate.clear()
    client_a, client_b = APIClient(), APIClient()
    client_a.force_authenticate(customer)
    client_b.force_authenticate(customer)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(lambda: (post(client_a, {"name": "a"}), connections.close_all()))
        while not IdempotencyKey.objects.exists():
            threading.Event().wait(0.05)
        second = post(client_b, {"name": "a"})
        idempotency_urls.gate.set()
        first_response = first.result(timeout=30)[0]
    assert second.status_code == 409
    assert second.json()["code"] == "idempotency_key_in_flight"
    assert second["Retry-After"] == "1"
    assert first_response.status_code == 201
    assert groups_created() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_requests_with_one_key_have_one_effect(customer):
    def send(_):
        client = APIClient()
        client.force_authenticate(customer)
        try:
            return post(client, {"name": "a"}).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(send, range(20)))
    assert groups_created() == 1
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}


@pytest.mark.django_db
def test_a_claim_whose_holder_died_is_taken_over(customer_client, customer):
    # Given a key claimed long ago by a process that crashed before storing a response
    old = timezone.now() - timedelta(hours=1)
    IdempotencyKey.objects.create(scope=f"user:{customer.pk} POST {URL}", key="key-1",
                                  fingerprint=request_fingerprint({"name": "a"}), locked_at=old, created_at=old)
    # When the client retries, the request runs and its result is stored
    assert post(customer_client, {"name": "a"}).status_code == 201
    assert post(customer_client, {"name": "a"})["Idempotent-Replayed"] == "true"
    assert groups_created() == 1


@pytest.mark.django_db
def test_keys_are_kept_24_hours_then_purged(customer_client):
    post(customer_client, {"name": "a"}, key="fresh")
    post(customer_client, {"name": "b"}, key="old")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_keys_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


@pytest.mark.django_db
def test_a_response_stored_before_exact_bytes_were_kept_is_still_replayed(customer_client, customer):
    # Given a key completed by the previous release, which kept the body as JSON only
    now = timezone.now()
    IdempotencyKey.objects.create(
        scope=f"user:{customer.pk} POST {URL}", key="key-1", fingerprint=request_fingerprint({"name": "a"}),
        status=IdempotencyKey.Status.COMPLETED, locked_at=now, created_at=now, response_status=201,
        response_body={"id": 7, "name": "a-1"}, response_headers={"Location": "/groups/7"})
    # When the client retries, it gets that answer, not a second execution
    again = post(customer_client, {"name": "a"})
    assert (again.status_code, again.json(), again["Location"]) == (201, {"id": 7, "name": "a-1"}, "/groups/7")
    assert again["Idempotent-Replayed"] == "true"
    assert idempotency_urls.executions["count"] == 0
