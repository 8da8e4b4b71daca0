"""Single-use, expiring tokens for the links accounts emails, from Django's token generator (an
HMAC of the account's state with SECRET_KEY, rotated through SECRET_KEY_FALLBACKS).

A link is "<uid>/<token>": `uid` names the account, `token` proves the email reached its owner.
A reset token covers the password hash and last login, so it stops working once the password is
set; a verification token covers the email and when it was verified, so it stops working once
used. Nothing is stored: the account's own state is what makes them single-use."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

password_reset_tokens = default_token_generator


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "apps.accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        customer = user.customer
        verified_at = customer.email_verified_at
        verified = "" if verified_at is None else verified_at.replace(microsecond=0, tzinfo=None).isoformat()
        return f"{user.pk}{customer.email}{verified}{timestamp}"

    def check_token(self, user, token) -> bool:
        """Django's check with this link's own lifetime (ACCOUNTS_EMAIL_VERIFICATION_TIMEOUT)
        instead of PASSWORD_RESET_TIMEOUT, which Django's check_token reads."""
        if not (user and token) or str(token).count("-") != 1:
            return False
        try:
            timestamp = base36_to_int(str(token).split("-")[0])
        except ValueError:
            return False
        if self._num_seconds(self._now()) - timestamp > settings.ACCOUNTS_EMAIL_VERIFICATION_TIMEOUT:
            return False
        return any(constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
                   for secret in [self.secret, *self.secret_fallbacks])


email_verification_tokens = EmailVerificationTokenGenerator()


def uid_encode(user_id: int) -> str:
    return urlsafe_base64_encode(force_bytes(user_id))


def uid_decode(uid: str) -> int | None:
    """The account id a link's uid names; None when it is not one we made."""
    try:
        return int(force_str(urlsafe_base64_decode(str(uid))))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None


def link_build(path: str, *, uid: str, token: str) -> str:
    """The link an email carries: a page of the shop's front end that posts uid and token back."""
    return f"{settings.ACCOUNTS_FRONTEND_URL}{path}?{urlencode({'uid': uid, 'token': token})}"


def link_expiry(seconds: int) -> dt.datetime:
    """When a link made now stops working, to the second (the email shows it)."""
    return (timezone.now() + dt.timedelta(seconds=seconds)).replace(microsecond=0)
