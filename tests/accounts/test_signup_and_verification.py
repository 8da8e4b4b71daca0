"""Sign-up with email and password, and the email verification link: single use, expiring."""

import datetime as dt

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail

from apps.accounts.models import Customer
from apps.common.models import OutboxEvent
from tests.accounts.conftest import PASSWORD, bearer, emails_to, link_in

pytestmark = pytest.mark.django_db


def test_signing_up_creates_an_account_that_can_sign_in_and_emails_a_verification_link(sign_up, sign_in):
    # When a new customer signs up
    response = sign_up("Ada.Lovelace@Example.com ", first_name="Ada", marketing_consent=True)
    # Then the answer is 202 and a verification email reaches the address, through the outbox
    assert response.status_code == 202
    assert "email" in response.json()["detail"]
    (message,) = emails_to("ada.lovelace@example.com")
    assert message.subject == "Commerce: confirm your email address"
    assert "Hello Ada" in message.body
    assert link_in(message)["uid"]
    assert OutboxEvent.objects.filter(event_type="accounts.email_verification_requested").count() == 1
    # and the customer can sign in at once, with the email in any case
    signed_in = sign_in("ADA.LOVELACE@example.com")
    assert signed_in.status_code == 200
    profile = bearer(signed_in.json()["token"]).get("/api/v1/me/").json()
    assert profile["email"] == "ada.lovelace@example.com"
    assert profile["first_name"] == "Ada"
    assert profile["email_verified"] is False
    assert profile["marketing_consent"] is True


def test_a_password_the_password_rules_refuse_is_422_naming_the_rule(sign_up):
    response = sign_up("ada@example.com", password="ada@example.com")
    assert response.status_code == 422
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["code"] == "password_rejected"
    assert {error["code"] for error in body["errors"]} >= {"password_too_similar"}
    assert not Customer.objects.exists()
    assert mail.outbox == []


def test_an_invalid_email_is_400(sign_up):
    response = sign_up("not-an-email")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "email"


def test_the_verification_link_verifies_the_email_once(sign_up, call, anonymous, customer_token):
    token = customer_token("ada@example.com")
    link = link_in(emails_to("ada@example.com")[0])
    # When the customer follows the link
    response = call(anonymous, "post", "/api/v1/auth/email/verify/", link)
    # Then the email is verified
    assert response.status_code == 200
    assert response.json() == {"email_verified": True, "orders_attached": 0}
    assert bearer(token).get("/api/v1/me/").json()["email_verified"] is True
    # and the same link a second time is refused
    again = call(anonymous, "post", "/api/v1/auth/email/verify/", link)
    assert again.status_code == 422
    assert again.json()["code"] == "link_invalid"


def test_an_expired_verification_link_is_refused(sign_up, call, anonymous, monkeypatch, settings):
    sign_up("ada@example.com")
    link = link_in(emails_to("ada@example.com")[0])
    # Given the link's lifetime has passed
    later = dt.datetime.now() + dt.timedelta(seconds=settings.ACCOUNTS_EMAIL_VERIFICATION_TIMEOUT + 60)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    # When it is followed, Then it is refused and the email stays unverified
    response = call(anonymous, "post", "/api/v1/auth/email/verify/", link)
    assert response.status_code == 422
    assert response.json()["code"] == "link_invalid"
    assert Customer.objects.get().email_verified_at is None


def test_an_altered_link_or_another_accounts_uid_is_refused(sign_up, call, anonymous):
    sign_up("ada@example.com")
    sign_up("bob@example.com")
    ada, bob = link_in(emails_to("ada@example.com")[0]), link_in(emails_to("bob@example.com")[0])
    for link in ({"uid": ada["uid"], "token": bob["token"]}, {"uid": ada["uid"], "token": "abc-0123"},
                 {"uid": "Zm9v", "token": ada["token"]}):
        response = call(anonymous, "post", "/api/v1/auth/email/verify/", link)
        assert response.status_code == 422, link
    assert not Customer.objects.filter(email_verified_at__isnull=False).exists()


def test_a_signed_in_customer_can_ask_for_a_new_verification_link(call, customer_token, anonymous):
    token = customer_token("ada@example.com")
    response = call(bearer(token), "post", "/api/v1/auth/email/verification/")
    assert response.status_code == 202
    _first, second = emails_to("ada@example.com")
    # The new link works
    assert call(anonymous, "post", "/api/v1/auth/email/verify/", link_in(second)).status_code == 200
    # and once verified, there is nothing left to ask for
    again = call(bearer(token), "post", "/api/v1/auth/email/verification/")
    assert again.status_code == 409
    assert again.json()["code"] == "email_verified_already"


def test_the_login_is_unique_without_regard_to_case(sign_up):
    sign_up("ada@example.com")
    sign_up("ADA@Example.COM", password=PASSWORD + "x")
    assert Customer.objects.count() == 1
