"""Password reset by email and password change.

A reset request answers alike for any email; only a registered, active customer gets the email.
Setting a new password (by reset or change) ends the customer's other sessions."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from knox.models import AuthToken

from apps.accounts import selectors
from apps.accounts.errors import LinkInvalid, PasswordIncorrect
from apps.accounts.events import PasswordResetRequested
from apps.accounts.services.links import link_email
from apps.accounts.services.sessions import sessions_end_all
from apps.accounts.tokens import password_reset_tokens
from apps.accounts.validation import email_digest, email_normalize, password_check

logger = logging.getLogger(__name__)


def password_reset_request(*, email: str) -> None:
    """Email a reset link to the customer with this email, if there is one."""
    email = email_normalize(email)
    customer = selectors.customer_by_email(email=email)
    if customer is None:
        logger.info("password reset asked for %s: no such customer", email_digest(email))
        return
    link_email(PasswordResetRequested, customer=customer, tokens=password_reset_tokens,
               path=settings.ACCOUNTS_RESET_PASSWORD_PATH, lifetime=settings.PASSWORD_RESET_TIMEOUT)
    logger.info("password reset asked for %s: link sent", email_digest(email))


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    """Set the password if the link is valid (once: the token covers the password hash) and end
    every session of the customer."""
    user = selectors.customer_user_by_uid(uid=uid)
    if user is None or not password_reset_tokens.check_token(user, token):
        raise LinkInvalid()
    password_check(new_password, user=user)
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        if not password_reset_tokens.check_token(user, token):  # used meanwhile
            raise LinkInvalid()
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoked = sessions_end_all(user=user)
    logger.info("password reset for account %s; %d sessions ended", user.pk, revoked)


def password_change(*, user, current_password: str, new_password: str, keep: AuthToken | None) -> int:
    """Change the password knowing the current one; every other session ends (`keep`, the
    token of the request, goes on). Returns how many sessions ended."""
    if not user.check_password(current_password):
        logger.warning("password change refused for account %s: wrong current password", user.pk)
        raise PasswordIncorrect()
    password_check(new_password, user=user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoked = sessions_end_all(user=user, keep=keep)
    logger.info("password changed for account %s; %d other sessions ended", user.pk, revoked)
    return revoked
