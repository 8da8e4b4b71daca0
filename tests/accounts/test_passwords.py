"""Password reset by email (single use, expiring) and password change (ends the other sessions)."""

import datetime as dt

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator

from apps.common.models import OutboxEvent
from tests.accounts.conftest import NEW_PASSWORD, PASSWORD, bearer, emails_to, link_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def reset_link(call, anonymous):
    def ask(email: str) -> dict:
        response = call(anonymous, "post", "/api/v1/auth/password/reset/", {"email": email})
        assert response.status_code == 202
        (message,) = [m for m in emails_to(email.lower()) if "new password" in m.subject]
        return link_in(message)

    return ask


def confirm(call, client, link: dict, password: str = NEW_PASSWORD):
    return call(client, "post", "/api/v1/auth/password/reset/confirm/", {**link, "new_password": password})


def test_a_reset_link_sets_a_new_password_and_ends_every_session(customer_token, reset_link, call, anonymous,
                                                                  sign_in):
    token = customer_token("ada@example.com")
    link = reset_link("ADA@example.com")
    # When the customer follows the emailed link with a new password
    response = confirm(call, anonymous, link)
    # Then the new password signs in, the old one does not, and the earlier sessions are over
    assert response.status_code == 204
    assert sign_in("ada@example.com", NEW_PASSWORD).status_code == 200
    assert sign_in("ada@example.com", PASSWORD).status_code == 401
    assert bearer(token).get("/api/v1/me/").status_code == 401


def test_a_reset_link_works_once(customer_token, reset_link, call, anonymous):
    customer_token("ada@example.com")
    link = reset_link("ada@example.com")
    assert confirm(call, anonymous, link).status_code == 204
    again = confirm(call, anonymous, link, password="yet-another-battery-5")
    assert again.status_code == 422
    assert again.json()["code"] == "link_invalid"


def test_an_expired_reset_link_is_refused(customer_token, reset_link, call, anonymous, monkeypatch, settings,
                                          sign_in):
    customer_token("ada@example.com")
    link = reset_link("ada@example.com")
    later = dt.datetime.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    response = confirm(call, anonymous, link)
    assert response.status_code == 422
    assert response.json()["code"] == "link_invalid"
    monkeypatch.undo()
    assert sign_in("ada@example.com", PASSWORD).status_code == 200


def test_a_new_password_the_rules_refuse_is_422_and_keeps_the_link_usable(customer_token, reset_link, call,
                                                                          anonymous):
    customer_token("ada@example.com")
    link = reset_link("ada@example.com")
    refused = confirm(call, anonymous, link, password="12345678")
    assert refused.status_code == 422
    assert refused.json()["code"] == "password_rejected"
    assert confirm(call, anonymous, link).status_code == 204


def test_a_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(customer_token, call, anonymous):
    customer_token("ada@example.com")
    known = call(anonymous, "post", "/api/v1/auth/password/reset/", {"email": "ada@example.com"})
    unknown = call(anonymous, "post", "/api/v1/auth/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert emails_to("nobody@example.com") == []
    assert OutboxEvent.objects.filter(event_type="accounts.password_reset_requested").count() == 1


def test_changing_the_password_ends_the_other_sessions_only(customer_token, sign_in, call):
    laptop = customer_token("ada@example.com")
    phone = sign_in("ada@example.com").json()["token"]
    # When the customer changes their password on the laptop
    response = call(bearer(laptop), "post", "/api/v1/me/password/",
                    {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    # Then the laptop stays signed in, the phone is signed out, and only the new password works
    assert response.status_code == 204
    assert bearer(laptop).get("/api/v1/me/").status_code == 200
    assert bearer(phone).get("/api/v1/me/").status_code == 401
    assert sign_in("ada@example.com", PASSWORD).status_code == 401
    assert sign_in("ada@example.com", NEW_PASSWORD).status_code == 200


def test_a_wrong_current_password_changes_nothing(customer_token, call, sign_in):
    token = customer_token("ada@example.com")
    response = call(bearer(token), "post", "/api/v1/me/password/",
                    {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD})
    assert response.status_code == 422
    assert response.json()["code"] == "password_incorrect"
    assert sign_in("ada@example.com", PASSWORD).status_code == 200
