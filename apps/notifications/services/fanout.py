"""Events -> deliveries: the notifications consumer's handler makes one delivery per rule
recipient and per subscribed webhook endpoint, each unique by (event, channel, recipient), and
hands each delivery to the task queue after commit."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.common.messaging.consumers import ReceivedEvent
from apps.common.messaging.inbox import inbox_purge as common_inbox_purge
from apps.notifications import states
from apps.notifications.models import Channel, Delivery, InboxEvent, WebhookEndpoint
from apps.notifications.publishing import tasks_publish
from apps.notifications.rendering import email_render, sms_render, template_context, webhook_render
from apps.notifications.subscriptions import event_type_private, recipients, rules_for

logger = logging.getLogger(__name__)


def event_notify(event: ReceivedEvent) -> None:
    """The notifications consumer's handler (inside its inbox transaction): one delivery per
    rule recipient and per subscribed active webhook endpoint, delivered after commit."""
    occurred_at = event.occurred_at.isoformat()
    context = template_context(event_type=event.type, event_id=str(event.id), occurred_at=occurred_at, data=event.data)
    common = {"event_id": event.id, "event_type": event.type, "traceparent": event.traceparent}
    wanted: list[Delivery] = []
    for rule in rules_for(event.type):
        for recipient in recipients(rule, event.data):
            if rule.channel == Channel.EMAIL:
                payload = email_render(event.type, context)
            else:
                payload = sms_render(event.type, context)
            wanted.append(Delivery(**common, channel=rule.channel, recipient=recipient,
                                   template=f"{rule.channel}/{event.type}", payload=payload))
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(is_active=True)
                 if endpoint.subscribes_to(event.type) and not event_type_private(event.type)]
    if endpoints:
        payload = webhook_render(event_type=event.type, occurred_at=occurred_at, data=event.data)
        wanted += [Delivery(**common, channel=Channel.WEBHOOK, recipient=str(endpoint.id), endpoint=endpoint,
                            payload=payload) for endpoint in endpoints]
    created = deliveries_create(wanted, reason="created from the event")
    if created:
        transaction.on_commit(lambda: deliveries_enqueue(created))


def deliveries_create(deliveries: list[Delivery], *, reason: str) -> list[int]:
    """Insert the deliveries whose key (event, channel, recipient) is new, each with the audit row
    of its creation: one INSERT of the deliveries, one of their audit rows. Returns the new ids.

    A key may exist when an event comes back after its inbox row was purged (a replay from the
    archive): that delivery is not made twice. The caller's transaction is the event's inbox
    transaction, in which no one else makes deliveries of that event."""
    existing = set(Delivery.objects.filter(event_id__in={delivery.event_id for delivery in deliveries})
                   .values_list("event_id", "channel", "recipient")) if deliveries else set()
    new: dict[tuple, Delivery] = {}
    for delivery in deliveries:
        key = (delivery.event_id, delivery.channel, delivery.recipient)
        if key in existing or key in new:
            logger.info("delivery %s/%s/%s exists: not created twice", *key)
            continue
        new[key] = delivery
    if not new:
        return []
    created = list(new.values())
    now = timezone.now()
    for delivery in created:
        delivery.next_attempt_at = now
    if len(created) == 1:
        created[0].save(force_insert=True)  # for one row, bulk_create costs more CPU than an INSERT
    else:
        Delivery.objects.bulk_create(created)
    states.deliveries_created(created, reason=reason)
    return [delivery.pk for delivery in created]


def deliveries_enqueue(delivery_ids: Iterable[int]) -> None:
    """One task per delivery, published together, their confirms awaited once. A delivery whose
    task was not confirmed is logged: deliveries_resume enqueues it again after its grace."""
    from apps.notifications.tasks import deliver

    ids = list(delivery_ids)
    if not ids:
        return
    if current_app.conf.task_always_eager:
        for delivery_id in ids:  # run here, now (the embedded default)
            try:
                deliver.apply_async(args=[delivery_id])
            except Exception:
                logger.exception("delivery %s failed in-process; the resume sweep retries it", delivery_id)
        return
    try:
        outcome = tasks_publish(deliver, ids)
    except Exception:
        logger.exception("could not enqueue deliveries %s; the resume sweep will", ids)
        return
    if outcome.unconfirmed:
        logger.error("could not enqueue deliveries %s (%s); the resume sweep will", list(outcome.unconfirmed),
                     outcome.error)


def inbox_purge() -> int:
    """Applied events are remembered long past any redelivery, then forgotten."""
    if settings.EVENT_INBOX_RETENTION_DAYS <= 0:
        return 0
    return common_inbox_purge(model=InboxEvent, using="default",
                              older_than=dt.timedelta(days=settings.EVENT_INBOX_RETENTION_DAYS))
