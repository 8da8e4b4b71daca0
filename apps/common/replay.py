"""Applying events again after the cause of their rejection is fixed: the rejected ones
(apps.common.rejections), or every archived event a consumer never applied."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from django.utils import timezone

from apps.common.consumers import InvalidEvent, consumer_get, event_apply
from apps.common.models import OutboxEvent, RejectedEvent


class ReplayOutcome(enum.Enum):
    APPLIED = "applied"  # the consumer applied it now
    ALREADY_APPLIED = "already_applied"  # its inbox says it was applied before
    REJECTED_AGAIN = "rejected_again"  # still not applicable: the row has the new reason


def rejected_event_replay(*, rejected_id: uuid.UUID) -> ReplayOutcome:
    """Apply a rejected event again for the consumer that rejected it, through its inbox."""
    row = RejectedEvent.objects.get(pk=rejected_id)
    try:
        applied = event_apply(consumer=consumer_get(row.consumer), envelope=row.envelope)
    except InvalidEvent:
        return ReplayOutcome.REJECTED_AGAIN  # event_apply recorded the new reason on the row
    RejectedEvent.objects.filter(pk=row.pk).update(status=RejectedEvent.Status.REPLAYED, replayed_at=timezone.now())
    return ReplayOutcome.APPLIED if applied else ReplayOutcome.ALREADY_APPLIED


def rejected_events_replay(*, consumer: str | None = None, event_type: str | None = None) -> dict[ReplayOutcome, int]:
    """Replay every event still rejected (optionally of one consumer or type), oldest first."""
    pending = RejectedEvent.objects.filter(status=RejectedEvent.Status.REJECTED).order_by("first_rejected_at")
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
        if not target.wants(row.event_type):
            continue
        try:
            applied = event_apply(consumer=target, envelope=row.envelope())
        except InvalidEvent:
            counts[ReplayOutcome.REJECTED_AGAIN] += 1
            continue
        counts[ReplayOutcome.APPLIED if applied else ReplayOutcome.ALREADY_APPLIED] += 1
    return counts
