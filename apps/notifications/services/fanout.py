"""Events -> deliveries: the notifications consumer's handler makes one delivery per rule
recipient and per subscribed webhook endpoint, each unique by (event, channel, recipient), and
hands each delivery to the task queue after commit."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.common.messaging.consumers import ReceivedEvent
from apps.common.messaging.inbox import inbox_purge as common_inbox_purge
from apps.notifications import states
from apps.notifications.models import Channel, Delivery, InboxEvent, WebhookEndpoint
from apps.notifications.rendering import email_render, sms_render, template_context, webhook_render
from apps.notifications.subscriptions import event_type_private, recipients, rules_for

logger = logging.getLogger(__name__)


def event_notify(event: ReceivedEvent) -> None:
    """The notifications consumer's handler (inside its inbox transaction): one delivery per
    rule recipient and per subscribed active webhook endpoint, delivered after commit."""
    occurred_at = event.occurred_at.isoformat()
    context = template_context(event_type=event.type, event_id=str(event.id), occurred_at=occurred_at, data=event.data)
    created: list[int] = []
    for rule in rules_for(event.type):
        for recipient in recipients(rule, event.data):
            if rule.channel == Channel.EMAIL:
                payload = email_render(event.type, context)
            else:
                payload = sms_render(event.type, context)
            created += delivery_create(event_id=event.id, event_type=event.type, channel=rule.channel,
                                       recipient=recipient, template=f"{rule.channel}/{event.type}",
                                       payload=payload, traceparent=event.traceparent)
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(is_active=True)
                 if endpoint.subscribes_to(event.type) and not event_type_private(event.type)]
    if endpoints:
        payload = webhook_render(event_type=event.type, occurred_at=occurred_at, data=event.data)
        for endpoint in endpoints:
            created += delivery_create(event_id=event.id, event_type=event.type, channel=Channel.WEBHOOK,
                                       recipient=str(endpoint.id), endpoint=endpoint, payload=payload,
                                       traceparent=event.traceparent)
    if created:
        transaction.on_commit(lambda: deliveries_enqueue(created))


def delivery_create(*, event_id: uuid.UUID, event_type: str, channel: str, recipient: str, payload: dict,
                    template: str = "", endpoint: WebhookEndpoint | None = None, traceparent: str = "") -> list[int]:
    """Create a delivery unless its key (event, channel, recipient) exists: [id] or []."""
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                event_id=event_id, event_type=event_type, channel=channel, recipient=recipient, endpoint=endpoint,
                template=template, payload=payload, traceparent=traceparent, next_attempt_at=timezone.now(),
            )
            states.delivery_created(delivery, reason="created from the event")
    except IntegrityError:
        logger.info("delivery %s/%s/%s exists: not created twice", event_id, channel, recipient)
        return []
    return [delivery.pk]


def deliveries_enqueue(delivery_ids: Iterable[int]) -> None:
    """One task per delivery. A failed enqueue is logged: deliveries_resume picks the row up."""
    from apps.notifications.tasks import deliver

    for delivery_id in delivery_ids:
        try:
            deliver.apply_async(args=[delivery_id], retry=True, retry_policy={"max_retries": 2})
        except Exception:
            logger.exception("could not enqueue delivery %s; the resume sweep will", delivery_id)


def inbox_purge() -> int:
    """Applied events are remembered long past any redelivery, then forgotten."""
    if settings.EVENT_INBOX_RETENTION_DAYS <= 0:
        return 0
    return common_inbox_purge(model=InboxEvent, using="default",
                              older_than=dt.timedelta(days=settings.EVENT_INBOX_RETENTION_DAYS))
