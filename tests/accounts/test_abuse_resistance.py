"""Enumeration resistance (the same answer, and the same work, for known and unknown emails),
throttles per account and per client address (429 with Retry-After), and logs without secrets."""

import logging

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from apps.accounts.models import Customer
from apps.common.models import OutboxEvent
from tests.accounts.conftest import PASSWORD, emails_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def hashes(monkeypatch):
    """How many times a password was hashed (the test settings hash with MD5)."""
    counted = []
    real = MD5PasswordHasher.encode

    def encode(self, password, salt):
        counted.append(1)
        return real(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", encode)
    return counted


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.ACCOUNTS_THROTTLE_RATES = {**settings.ACCOUNTS_THROTTLE_RATES, **rates}

    return set_rates


def assert_throttled(response):
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1


def test_sign_up_answers_alike_and_does_the_same_work_for_a_registered_email(sign_up, hashes):
    # Given a registered customer
    sign_up("ada@example.com", first_name="Ada")
    hashes.clear()
    events = OutboxEvent.objects.count()
    # When someone signs up again with that email, and someone else with a new one
    registered = sign_up("Ada@Example.com", password="some-other-battery-3")
    work_registered = (len(hashes), OutboxEvent.objects.count() - events)
    hashes.clear()
    events = OutboxEvent.objects.count()
    new = sign_up("grace@example.com", password="some-other-battery-3")
    work_new = (len(hashes), OutboxEvent.objects.count() - events)
    # Then both answers are the same, and so is the work done for them (one hash, one event)
    assert registered.status_code == new.status_code == 202
    assert registered.json() == new.json()
    assert work_registered == work_new == (1, 1)
    # and the owner of the registered email is told, while nothing about the account changed
    (notice,) = [m for m in emails_to("ada@example.com") if "already have an account" in m.subject]
    assert "Hello Ada" in notice.body
    assert Customer.objects.count() == 2


def test_sign_in_does_the_same_work_for_an_unknown_email_as_for_a_wrong_password(customer_token, sign_in, hashes):
    customer_token("ada@example.com")
    hashes.clear()
    sign_in("ada@example.com", password="wrong-password-1")
    wrong_password = len(hashes)
    hashes.clear()
    sign_in("nobody@example.com", password="wrong-password-1")
    assert wrong_password == len(hashes) == 1


def test_sign_in_is_throttled_per_account_across_addresses(customer_token, sign_in, rates):
    customer_token("ada@example.com")
    rates(signin_account="3/minute")
    for _ in range(3):
        assert sign_in("ada@example.com", password="wrong-password-1").status_code == 401
    # The fourth attempt is refused, even with the right password and from another address
    assert_throttled(sign_in("ada@example.com", REMOTE_ADDR="10.9.9.9"))
    # while another account is not held back
    assert sign_in("bob@example.com", password="wrong-password-1").status_code == 401


def test_unknown_emails_are_throttled_like_known_ones(customer_token, sign_in, rates):
    customer_token("ada@example.com")
    rates(signin_account="2/minute")
    answers = {}
    for email in ("ada@example.com", "nobody@example.com"):
        answers[email] = [sign_in(email, password="wrong-password-1").status_code for _ in range(3)]
    assert answers["ada@example.com"] == answers["nobody@example.com"] == [401, 401, 429]


def test_sign_up_is_throttled_per_client_address(sign_up, rates):
    rates(signup_address="2/hour")
    assert sign_up("a1@example.com", remote_addr="10.0.0.1").status_code == 202
    assert sign_up("a2@example.com", remote_addr="10.0.0.1").status_code == 202
    assert_throttled(sign_up("a3@example.com", remote_addr="10.0.0.1"))
    assert sign_up("a3@example.com", remote_addr="10.0.0.2").status_code == 202
    assert Customer.objects.count() == 3


def test_password_reset_is_throttled_per_account(call, anonymous, rates):
    rates(password_reset_account="2/hour")
    for _ in range(2):
        response = call(anonymous, "post", "/api/v1/auth/password/reset/", {"email": "ada@example.com"})
        assert response.status_code == 202
    assert_throttled(call(anonymous, "post", "/api/v1/auth/password/reset/", {"email": "ADA@example.com"},
                          REMOTE_ADDR="10.1.1.1"))


def test_verification_is_throttled_per_client_address(call, anonymous, rates):
    rates(email_verification_address="2/minute")
    link = {"uid": "MQ", "token": "abc-0123"}
    assert [call(anonymous, "post", "/api/v1/auth/email/verify/", link).status_code for _ in range(3)] == [
        422, 422, 429]


def test_sign_in_is_logged_without_secrets(customer_token, sign_in, caplog):
    customer_token("ada@example.com")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="apps.accounts"):
        sign_in("ada@example.com", password="wrong-password-1", REMOTE_ADDR="10.2.3.4")
        token = sign_in("ada@example.com", REMOTE_ADDR="10.2.3.4").json()["token"]
    records = [r for r in caplog.records if r.name.startswith("apps.accounts") and "sign-in" in r.getMessage()]
    failed, succeeded = records
    assert failed.levelno == logging.WARNING and "sign-in failed" in failed.getMessage()
    assert succeeded.levelno == logging.INFO and "sign-in succeeded" in succeeded.getMessage()
    for record in records:
        text = record.getMessage()
        assert "10.2.3.4" in text and record.account
        for secret in ("ada@example.com", PASSWORD, "wrong-password-1", token):
            assert secret not in text
