"""Who hears about what: the default rules for email and SMS (webhooks follow each endpoint's
own subscription). A rule names its template: notifications/<channel>/<event type>/..."""

from __future__ import annotations

import dataclasses
import enum

from django.conf import settings

from apps.common.messaging.consumers import topic_matches
from apps.notifications.models import Channel
from apps.notifications.sms import phone_normalize


class Audience(enum.Enum):
    CUSTOMER = "customer"  # the email / phone carried by the event
    STAFF = "staff"  # NOTIFICATIONS_STAFF_EMAILS


@dataclasses.dataclass(frozen=True)
class Rule:
    event_type: str
    channel: str
    audience: Audience


RULES: tuple[Rule, ...] = (
    Rule("orders.order_placed", Channel.EMAIL, Audience.CUSTOMER),
    Rule("orders.order_shipped", Channel.EMAIL, Audience.CUSTOMER),
    Rule("orders.order_shipped", Channel.SMS, Audience.CUSTOMER),
    Rule("orders.order_cancelled", Channel.EMAIL, Audience.CUSTOMER),
    Rule("orders.order_refunded", Channel.EMAIL, Audience.CUSTOMER),
    Rule("payments.payment_failed", Channel.EMAIL, Audience.STAFF),
    # Customer accounts: each email carries a link for its recipient alone (see event_type_private).
    Rule("accounts.email_verification_requested", Channel.EMAIL, Audience.CUSTOMER),
    Rule("accounts.password_reset_requested", Channel.EMAIL, Audience.CUSTOMER),
    Rule("accounts.duplicate_signup_attempted", Channel.EMAIL, Audience.CUSTOMER),
)


def event_type_private(event_type: str) -> bool:
    """Whether the event carries a secret for one person (NOTIFICATIONS_PRIVATE_EVENT_TYPES): it is
    emailed by its rules and never sent to, nor subscribable by, a webhook endpoint."""
    return any(topic_matches(pattern, event_type) for pattern in settings.NOTIFICATIONS_PRIVATE_EVENT_TYPES)


def rules_for(event_type: str) -> list[Rule]:
    return [rule for rule in RULES if rule.event_type == event_type]


def recipients(rule: Rule, data: dict) -> list[str]:
    """Addresses for one rule; none when the event does not carry them (the rule is skipped)."""
    if rule.audience is Audience.STAFF:
        return sorted({address.strip().lower() for address in settings.NOTIFICATIONS_STAFF_EMAILS if address.strip()})
    if rule.channel == Channel.EMAIL:
        email = str(data.get("email") or "").strip()
        return [email.lower()] if email else []
    if rule.channel == Channel.SMS:
        phone = phone_normalize(str(data.get("phone") or ""))
        return [phone] if phone else []
    return []
