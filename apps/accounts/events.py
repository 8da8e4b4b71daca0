"""Domain events that apps.accounts publishes through the outbox (schemas/events/accounts.*.v1.json).

They carry a secret for one person (the link of an email) and go to that person's mailbox only:
notifications never hands them to a webhook endpoint (NOTIFICATIONS_PRIVATE_EVENT_TYPES) and
reporting does not bind them."""

from __future__ import annotations

import dataclasses
import datetime as dt

from apps.common.messaging.events import DomainEvent


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountEventBase(DomainEvent):
    customer_id: int  # the account's user id
    email: str
    first_name: str

    def aggregate_id(self) -> str:
        return str(self.customer_id)


@dataclasses.dataclass(frozen=True, kw_only=True)
class LinkEmailRequested(AccountEventBase):
    """An email carrying a one-time link (uid and token) to a page of the shop's front end."""

    link: str
    uid: str
    token: str
    expires_at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class EmailVerificationRequested(LinkEmailRequested):
    """Sign-up (or a request for a new link): the link proves the email reaches its owner."""

    event_type = "accounts.email_verification_requested"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PasswordResetRequested(LinkEmailRequested):
    event_type = "accounts.password_reset_requested"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DuplicateSignupAttempted(AccountEventBase):
    """Someone signed up with the email of an existing account: its owner is told, nothing is
    created (the sign-up's answer is the same as for a new email)."""

    event_type = "accounts.duplicate_signup_attempted"
