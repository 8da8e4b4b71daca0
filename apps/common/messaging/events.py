"""Domain events and the outbox: an event is recorded in the producer's transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, ClassVar

from django.db import transaction
from django.utils import timezone

from apps.common.messaging.relay import relay_after_commit
from apps.common.models import OutboxEvent
from apps.common.observability.telemetry import current_traceparent


@dataclasses.dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every event dataclass: `event_type` like "orders.order_placed", entity + past tense."""

    event_type: ClassVar[str]
    version: ClassVar[int] = 1

    def aggregate_id(self) -> str:
        raise NotImplementedError

    def data(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def event_record(event: DomainEvent, *, using: str = "default", traceparent: str | None = None) -> OutboxEvent:
    """Write `event` to the outbox. Must run inside the transaction that makes the change, so
    that the event exists if and only if the change does. The active trace travels with it."""
    if not transaction.get_connection(using).in_atomic_block:
        raise RuntimeError("event_record must be called inside the producer's transaction.atomic()")
    row = OutboxEvent.objects.using(using).create(
        event_type=event.event_type,
        version=event.version,
        aggregate_id=str(event.aggregate_id()),
        occurred_at=timezone.now(),
        data=event.data(),
        traceparent=current_traceparent() if traceparent is None else traceparent,
    )
    # The one after-commit trigger of the relay: a pass publishes the row right after the commit.
    transaction.on_commit(lambda event_id=row.id: relay_after_commit(event_id), using=using)
    return row
