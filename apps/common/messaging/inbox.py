"""The consumer side of exactly-once effects over at-least-once delivery.

RabbitMQ redelivers a message whose consumer died before acking, and the outbox relay
republishes an event whose publish it could not mark. The inbox row, unique on
(consumer, event_id) and written in the same transaction as the event's effects, makes the
second arrival a no-op."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction
from django.utils import timezone

if TYPE_CHECKING:
    from apps.common.messaging.envelope import ReceivedEvent

logger = logging.getLogger(__name__)


def inbox_apply(*, model: type[models.Model], using: str, consumer: str, event: ReceivedEvent,
                apply: Callable[[ReceivedEvent], None]) -> bool:
    """Apply `event` once for `consumer`: True if applied now, False if it had been already.

    `model` is a concrete subclass of AbstractInboxEvent on the `using` alias. A concurrent
    second delivery blocks on the unique index until the first commits, then sees the row."""
    with transaction.atomic(using=using):
        try:
            with transaction.atomic(using=using):
                model.objects.using(using).create(
                    consumer=consumer, event_id=event.id, event_type=event.type,
                    occurred_at=event.occurred_at, applied_at=timezone.now(),
                )
        except IntegrityError:
            model.objects.using(using).filter(consumer=consumer, event_id=event.id).update(
                redeliveries=models.F("redeliveries") + 1)
            logger.info("%s already applied %s %s: skipped", consumer, event.type, event.id)
            return False
        apply(event)
    return True


def inbox_purge(*, model: type[models.Model], using: str, older_than: dt.timedelta) -> int:
    """Forget inbox rows older than `older_than` (longer than any redelivery can arrive)."""
    cutoff = timezone.now() - older_than
    deleted, _ = model.objects.using(using).filter(applied_at__lt=cutoff).delete()
    return deleted
