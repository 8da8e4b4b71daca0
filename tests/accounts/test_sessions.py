"""Sign-in, refresh, sign-out and the customer's own sessions (knox tokens: stored hashed)."""

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.accounts.conftest import PASSWORD, bearer

pytestmark = pytest.mark.django_db


def test_sign_in_returns_a_bearer_token_with_its_expiry(customer_token, sign_in):
    customer_token("ada@example.com")
    response = sign_in("ada@example.com")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["token"].startswith(body["token_key"])
    assert body["expiry"]
    # The token opens the customer's own resources
    assert bearer(body["token"]).get("/api/v1/me/").status_code == 200


def test_a_database_dump_holds_no_usable_token(customer_token):
    token = customer_token("ada@example.com")
    (row,) = AuthToken.objects.values("digest", "token_key")
    # Only a SHA-512 digest of the token is stored, and its first characters (its public name)
    assert row["digest"] == hashlib.sha512(token.encode()).hexdigest()
    assert token not in str(row)
    # and neither the digest nor the key is accepted as a token
    for guess in (row["digest"], row["token_key"]):
        assert bearer(guess).get("/api/v1/me/").status_code == 401


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(customer_token, sign_in):
    customer_token("ada@example.com")
    wrong = sign_in("ada@example.com", password="not-the-password")
    unknown = sign_in("nobody@example.com", password="not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() | {"instance": None} == unknown.json() | {"instance": None}
    assert wrong.json()["code"] == "invalid_credentials"
    assert "WWW-Authenticate" in wrong


def test_staff_cannot_sign_in_as_customers(sign_in):
    get_user_model().objects.create_user("boss@example.com", "boss@example.com", PASSWORD, is_staff=True)
    assert sign_in("boss@example.com").status_code == 401


def test_signing_out_revokes_the_token(customer_token, call):
    token = customer_token("ada@example.com")
    response = call(bearer(token), "post", "/api/v1/auth/signout/")
    assert response.status_code == 204
    assert bearer(token).get("/api/v1/me/").status_code == 401
    assert call(bearer(token), "post", "/api/v1/auth/signout/").status_code == 401


def test_refresh_replaces_the_token_with_a_new_one(customer_token, call):
    old = customer_token("ada@example.com")
    response = call(bearer(old), "post", "/api/v1/auth/token/refresh/")
    assert response.status_code == 200
    new = response.json()["token"]
    assert new != old
    # The new token works and the old one no longer does, not even for a second refresh
    assert bearer(new).get("/api/v1/me/").status_code == 200
    assert bearer(old).get("/api/v1/me/").status_code == 401
    assert call(bearer(old), "post", "/api/v1/auth/token/refresh/").status_code == 401


def test_an_expired_token_is_refused_and_cannot_be_refreshed(customer_token, call):
    token = customer_token("ada@example.com")
    AuthToken.objects.update(expiry=timezone.now())
    assert bearer(token).get("/api/v1/me/").status_code == 401
    assert call(bearer(token), "post", "/api/v1/auth/token/refresh/").status_code == 401


def test_a_customer_lists_and_revokes_their_own_sessions(customer_token, sign_in, call):
    laptop = customer_token("ada@example.com")
    phone = sign_in("ada@example.com").json()
    # When the customer lists their sessions from the laptop
    sessions = bearer(laptop).get("/api/v1/me/sessions/").json()
    assert len(sessions) == 2
    current = [session for session in sessions if session["current"]]
    assert len(current) == 1 and laptop.startswith(current[0]["token_key"])
    # and revokes the phone's
    response = call(bearer(laptop), "delete", f"/api/v1/me/sessions/{phone['token_key']}/")
    assert response.status_code == 204
    # Then the phone is signed out, the laptop is not
    assert bearer(phone["token"]).get("/api/v1/me/").status_code == 401
    assert bearer(laptop).get("/api/v1/me/").status_code == 200


def test_another_customers_session_is_404(customer_token, call):
    ada = customer_token("ada@example.com")
    bob = customer_token("bob@example.com")
    bobs_key = bearer(bob).get("/api/v1/me/sessions/").json()[0]["token_key"]
    response = call(bearer(ada), "delete", f"/api/v1/me/sessions/{bobs_key}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert bearer(bob).get("/api/v1/me/").status_code == 200


def test_staff_and_integration_tokens_keep_working_with_the_token_keyword(staff):
    key = Token.objects.create(user=staff).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/orders/").status_code == 200
    # and a customer endpoint tells them they have no profile
    me = client.get("/api/v1/me/")
    assert me.status_code == 403
    assert me.json()["code"] == "not_a_customer"


def test_an_anonymous_call_is_told_how_to_authenticate(anonymous):
    response = anonymous.get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_stale_token_does_not_stop_a_sign_in(customer_token):
    customer_token("ada@example.com")
    client = bearer("0" * 64)
    response = client.post("/api/v1/auth/signin/", {"email": "ada@example.com", "password": PASSWORD},
                           format="json")
    assert response.status_code == 200


def test_signing_in_past_the_session_limit_ends_the_oldest(customer_token, sign_in, settings):
    settings.ACCOUNTS_MAX_SESSIONS = 2
    first = customer_token("ada@example.com")
    sign_in("ada@example.com")
    latest = sign_in("ada@example.com").json()["token"]
    assert AuthToken.objects.count() == 2
    assert bearer(first).get("/api/v1/me/").status_code == 401
    assert bearer(latest).get("/api/v1/me/").status_code == 200
