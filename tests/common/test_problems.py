import pytest
from django.urls import get_resolver
from rest_framework.test import APIClient

from apps.common.http.problems import PROBLEM_TYPES

pytestmark = [pytest.mark.urls("tests.common.problem_urls"), pytest.mark.django_db]


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"/problems/{code}"
    assert body["title"] and body["detail"]
    return body


def test_validation_error_names_each_invalid_field(api_client):
    response = api_client.post("/api/v1/validate/", {"price": "-3", "currency": "euro"}, format="json")
    body = assert_problem(response, 400, "validation_error")
    assert {e["field"] for e in body["errors"]} == {"price", "currency"}
    assert all(e["message"] and e["code"] for e in body["errors"])


def test_malformed_json_is_a_400_problem(api_client):
    response = api_client.post("/api/v1/validate/", "{not json", content_type="application/json")
    assert_problem(response, 400, "malformed_request")


def test_anonymous_gets_401_with_a_challenge(api_client):
    response = api_client.get("/api/v1/private/")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"  # customers' tokens (knox) come first; staff send "Token <key>"


def test_bad_token_gets_401(api_client):
    response = api_client.get("/api/v1/private/", HTTP_AUTHORIZATION="Token nope")
    assert_problem(response, 401, "authentication_failed")


def test_customer_on_a_staff_endpoint_gets_403(customer_client):
    assert_problem(customer_client.get("/api/v1/staff-only/"), 403, "permission_denied")


def test_missing_object_gets_404(api_client):
    assert_problem(api_client.get("/api/v1/missing/"), 404, "not_found")


def test_wrong_method_gets_405(api_client):
    assert_problem(api_client.delete("/api/v1/missing/"), 405, "method_not_allowed")


def test_service_errors_keep_their_status_code_and_detail(api_client):
    body = assert_problem(api_client.get("/api/v1/raises/conflict/"), 409, "conflict")
    assert body["detail"] == "Order 42 is already shipped."
    assert_problem(api_client.get("/api/v1/raises/stale/"), 412, "precondition_failed")


def test_unsupported_media_type_gets_415(api_client):
    response = api_client.post("/api/v1/validate/", "price=1", content_type="text/plain")
    assert_problem(response, 415, "unsupported_media_type")


def test_throttled_request_gets_429_with_retry_after(api_client):
    assert api_client.get("/api/v1/throttled/").status_code == 200
    response = api_client.get("/api/v1/throttled/")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_a_request_django_refuses_to_parse_gets_400_not_500(api_client):
    body = assert_problem(api_client.get("/api/v1/raises/suspicious/"), 400, "malformed_request")
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" not in str(body)


def test_unexpected_exception_gets_500_problem_without_internals():
    client = APIClient(raise_request_exception=False)
    body = assert_problem(client.get("/api/v1/raises/bug/"), 500, "internal_error")
    assert "a bug" not in str(body)


@pytest.mark.urls("config.urls")
def test_every_problem_type_uri_resolves(api_client):
    # Loading every URL module imports the views and the errors they raise, which register the
    # apps' codes; the first request would otherwise do it while the registry is being read.
    get_resolver().url_patterns  # noqa: B018
    for code, (status, _title) in list(PROBLEM_TYPES.items()):
        response = api_client.get(f"/problems/{code}")
        assert response.status_code == 200
        assert response.json()["status"] == status


@pytest.mark.urls("config.urls")
def test_unknown_api_path_gets_404_problem_not_html(api_client):
    body = assert_problem(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert body["instance"] == "/api/v1/no-such-thing/"


@pytest.mark.urls("config.urls")
@pytest.mark.parametrize("path", ["/api/v1/orders/{}/", "/api/v1/payments/{}/",
                                  "/api/v1/notifications/webhook-endpoints/{}/"])
def test_an_id_that_is_not_a_uuid_gets_404_problem_not_500(staff_client, path):
    assert_problem(staff_client.get(path.format("0" * 36)), 404, "not_found")


@pytest.mark.urls("config.urls")
def test_the_api_takes_json_bodies_only(customer_client):
    response = customer_client.post("/api/v1/orders/", {"payment_token": "tok_approved"}, format="multipart",
                                    HTTP_IDEMPOTENCY_KEY="form-1")
    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.urls("config.urls")
def test_the_api_root_asks_anonymous_callers_to_authenticate(api_client):
    assert_problem(api_client.get("/api/v1/"), 401, "not_authenticated")
