"""Applying events again after the cause of their rejection is fixed: the rejected ones
(apps.common.messaging.rejections), or every archived event a consumer never applied."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from django.db.models import QuerySet
from django.utils import timezone

from apps.common.messaging.consumers import InvalidEvent, consumer_get, event_apply
from apps.common.models import OutboxEvent, RejectedEvent


class ReplayOutcome(enum.Enum):
    APPLIED = "applied"  # the consumer applied it now
    ALREADY_APPLIED = "already_applied"  # its inbox says it was applied before
    REJECTED_AGAIN = "rejected_again"  # still not applicable: the row has the new reason


def _apply(consumer, envelope) -> ReplayOutcome:
    try:
        applied = event_apply(consumer=consumer, envelope=envelope)
    except InvalidEvent:
        return ReplayOutcome.REJECTED_AGAIN  # event_apply recorded the new reason
    return ReplayOutcome.APPLIED if applied else ReplayOutcome.ALREADY_APPLIED


def rejected_event_replay(*, rejected_id: uuid.UUID) -> ReplayOutcome:
    """Apply a rejected event again for the consumer that rejected it, through its inbox."""
    row = RejectedEvent.objects.get(pk=rejected_id)
    outcome = _apply(consumer_get(row.consumer), row.envelope)
    if outcome is not ReplayOutcome.REJECTED_AGAIN:
        RejectedEvent.objects.filter(pk=row.pk).update(status=RejectedEvent.Status.REPLAYED,
                                                       replayed_at=timezone.now())
    return outcome


def rejected_events_replay(*, rejected: QuerySet[RejectedEvent] | None = None, consumer: str | None = None,
                           event_type: str | None = None) -> dict[ReplayOutcome, int]:
    """Replay the events still rejected among `rejected` (default: all), optionally of one
    consumer or type, oldest first."""
    pending = (RejectedEvent.objects.all() if rejected is None else rejected).filter(
        status=RejectedEvent.Status.REJECTED).order_by("first_rejected_at")
    if consumer:
        pending = pending.filter(consumer=consumer)
    if event_type:
        pending = pending.filter(event_type=event_type)
    counts = dict.fromkeys(ReplayOutcome, 0)
    for rejected_id in list(pending.values_list("id", flat=True)):
        counts[rejected_event_replay(rejected_id=rejected_id)] += 1
    return counts


def archive_reapply(*, consumer: str, since: dt.datetime, using: str = "default") -> dict[ReplayOutcome, int]:
    """Offer every archived (published) event since `since` to `consumer` again. Its inbox skips
    those it applied, so only the ones it never applied (rejected before rejections were
    recorded, say) take effect. `since` must be within EVENT_INBOX_RETENTION_DAYS: older inbox
    rows are purged, and their events would be applied twice."""
    target = consumer_get(consumer)
    counts = dict.fromkeys(ReplayOutcome, 0)
    archive = (OutboxEvent.objects.using(using)
               .filter(status=OutboxEvent.Status.PUBLISHED, occurred_at__gte=since).order_by("occurred_at", "id"))
    for row in archive.iterator(chunk_size=500):
        if target.wants(row.event_type):
            counts[_apply(target, row.envelope())] += 1
    return counts
