"""What travels on the events exchange, as a consumer sees it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any


class InvalidEvent(Exception):
    """An event that can never be applied (malformed envelope, data breaking its schema).
    It is dead-lettered to "<consumer>.events.dead" instead of being retried."""


@dataclasses.dataclass(frozen=True)
class ReceivedEvent:
    """An event as a consumer sees it: the envelope of apps.common.models.OutboxEvent."""

    id: uuid.UUID
    type: str
    version: int
    occurred_at: dt.datetime
    aggregate_id: str
    data: dict[str, Any]
    traceparent: str = ""

    @classmethod
    def from_envelope(cls, envelope: Any) -> ReceivedEvent:
        if not isinstance(envelope, dict):
            raise InvalidEvent(f"an event envelope is a JSON object, got {type(envelope).__name__}")
        try:
            occurred_at = dt.datetime.fromisoformat(envelope["occurred_at"])
            event = cls(
                id=uuid.UUID(str(envelope["id"])), type=str(envelope["type"]), version=int(envelope["version"]),
                occurred_at=occurred_at, aggregate_id=str(envelope.get("aggregate_id", "")),
                data=envelope["data"], traceparent=str(envelope.get("traceparent") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidEvent(f"malformed event envelope: {exc!r}") from exc
        if not isinstance(event.data, dict):
            raise InvalidEvent("the event's data is not a JSON object")
        return event

    def envelope(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "version": self.version,
                "occurred_at": self.occurred_at.isoformat(), "aggregate_id": self.aggregate_id,
                "data": self.data, "traceparent": self.traceparent}
