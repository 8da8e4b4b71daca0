"""Events a consumer rejects are a defect to be seen, not a log line: each rejection is counted
in `events_rejected_total`, kept as a RejectedEvent row with its reason (admin: Common, Rejected
events) and can be replayed through the consumer's inbox once the cause is fixed
(apps.common.messaging.replay).

Both transports record here: the broker consumer (before it dead-letters the message) and the
embedded default's in-process relay (which has no dead-letter queue)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from apps.common.models import RejectedEvent
from apps.common.observability.metrics import EVENTS_REJECTED

logger = logging.getLogger(__name__)


def _identity(envelope: Any) -> tuple[uuid.UUID | None, str]:
    if not isinstance(envelope, dict):
        return None, ""
    try:
        event_id = uuid.UUID(str(envelope.get("id")))
    except ValueError:
        event_id = None
    return event_id, str(envelope.get("type") or "")[:100]


def event_rejected(*, consumer: str, envelope: Any, reason: str) -> None:
    """Count and record one rejection. Never raises: the caller still dead-letters the message."""
    event_id, event_type = _identity(envelope)
    EVENTS_REJECTED.labels(consumer, event_type or "<unknown>").inc()
    stored = envelope if isinstance(envelope, dict | list | str | int | float) else repr(envelope)
    try:
        _record(consumer=consumer, event_id=event_id, event_type=event_type, envelope=stored, reason=reason)
    except Exception:
        logger.exception("could not record that %s rejected %s %s", consumer, event_type, event_id)


def _record(*, consumer: str, event_id: uuid.UUID | None, event_type: str, envelope: Any, reason: str) -> None:
    now = timezone.now()
    again = {"reason": reason, "last_rejected_at": now, "status": RejectedEvent.Status.REJECTED,
             "replayed_at": None, "rejections": models.F("rejections") + 1}
    rows = RejectedEvent.objects.filter(consumer=consumer, event_id=event_id) if event_id else None
    if rows is not None and rows.update(**again):
        return
    try:
        with transaction.atomic(using="default"):
            RejectedEvent.objects.create(consumer=consumer, event_id=event_id, event_type=event_type,
                                         envelope=envelope, reason=reason, first_rejected_at=now,
                                         last_rejected_at=now)
    except IntegrityError:  # another process recorded the same rejection first
        rows.update(**again)
