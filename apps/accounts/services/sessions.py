"""Sign-in, refresh, sign-out and revocation of customer credentials (django-rest-knox tokens:
random 256-bit secrets stored as SHA-512 digests, with an expiry).

A session is one token. It is named publicly by its `token_key`, the first 15 characters of the
secret, which are stored in clear to find the row and are useless without the rest."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.db import transaction
from knox.models import AuthToken
from rest_framework.authtoken.models import Token

from apps.accounts.errors import InvalidCredentials
from apps.accounts.models import Customer
from apps.accounts.types import IssuedToken
from apps.accounts.validation import email_digest, email_normalize
from apps.common.http.problems import NotFound

logger = logging.getLogger(__name__)


def session_start(*, email: str, password: str, client: str) -> IssuedToken:
    """Sign a customer in: a new token. Unknown email, wrong password, a deactivated account
    and a staff account are refused alike (Django's ModelBackend hashes the password for an
    unknown email too, so the answer takes as long)."""
    email = email_normalize(email)
    user = authenticate(None, username=email, password=password)
    if user is None or not Customer.objects.filter(user_id=user.pk).exists():
        logger.warning("sign-in failed for %s from %s", email_digest(email), client,
                       extra={"account": email_digest(email), "client": client})
        raise InvalidCredentials()
    issued = session_issue(user=user)
    user_logged_in.send(sender=user.__class__, request=None, user=user)  # last_login
    logger.info("sign-in succeeded for %s from %s (session %s)", email_digest(email), client, issued.token_key,
                extra={"account": email_digest(email), "client": client, "session": issued.token_key})
    return issued


def session_refresh(*, user, token: AuthToken) -> IssuedToken:
    """Replace the presented token by a new one with a fresh expiry. Two refreshes of one token
    race on its row: the first deletes it, the second finds nothing to delete and is refused."""
    with transaction.atomic():
        deleted, _ = AuthToken.objects.filter(pk=token.pk).delete()
        if not deleted:
            raise InvalidCredentials("The token was refreshed or revoked already.")
        issued = _issue(user)
    logger.info("session %s refreshed as %s", token.token_key, issued.token_key)
    return issued


def session_end(*, token: AuthToken) -> None:
    """Sign-out: the presented token stops working."""
    AuthToken.objects.filter(pk=token.pk).delete()
    logger.info("session %s signed out", token.token_key)


def session_revoke(*, user, token_key: str) -> None:
    """Revoke one of the user's own sessions; another's (or none) is 404."""
    deleted, _ = AuthToken.objects.filter(user_id=user.pk, token_key=token_key).delete()
    if not deleted:
        raise NotFound("No such session.")
    logger.info("session %s revoked by its owner", token_key)


def sessions_end_all(*, user, keep: AuthToken | None = None) -> int:
    """Revoke every credential of the user (customer tokens and any DRF token) but `keep`."""
    tokens = AuthToken.objects.filter(user_id=user.pk)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    revoked, _ = tokens.delete()
    staff_tokens, _ = Token.objects.filter(user_id=user.pk).delete()
    return revoked + staff_tokens


def session_issue(*, user) -> IssuedToken:
    """A new token for the user. Only the newest ACCOUNTS_MAX_SESSIONS are kept: a script signing
    in in a loop does not grow the table without end."""
    with transaction.atomic():
        issued = _issue(user)
        surplus = AuthToken.objects.filter(user_id=user.pk).order_by("-created").values_list("pk", flat=True)[
            settings.ACCOUNTS_MAX_SESSIONS:]
        AuthToken.objects.filter(pk__in=list(surplus)).delete()
    return issued


def _issue(user) -> IssuedToken:
    instance, secret = AuthToken.objects.create(user=user)
    return IssuedToken(token=secret, token_key=instance.token_key, expiry=instance.expiry)
