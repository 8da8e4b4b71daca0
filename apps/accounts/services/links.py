"""The emails that carry a one-time link (verification, password reset): one way to make them."""

from __future__ import annotations

from django.db import transaction

from apps.accounts.events import LinkEmailRequested
from apps.accounts.models import Customer
from apps.accounts.tokens import link_build, link_expiry, uid_encode
from apps.common.messaging.events import event_record


def link_email(event: type[LinkEmailRequested], *, customer: Customer, tokens, path: str, lifetime: int) -> None:
    """Record `event` (emailed by notifications) with a fresh link of `tokens` to the front end's
    `path`, valid for `lifetime` seconds."""
    user = customer.user
    uid, token = uid_encode(user.pk), tokens.make_token(user)
    with transaction.atomic():
        event_record(event(customer_id=user.pk, email=customer.email, first_name=user.first_name,
                           link=link_build(path, uid=uid, token=token), uid=uid, token=token,
                           expires_at=link_expiry(lifetime)))
