"""Reporting as a consumer of the event backbone (apps.common.messaging.consumers): its queue
"reporting.events" is bound to orders.# and payments.#, and `event_project` runs for each event
inside the inbox transaction on the reporting alias, so a redelivered event is skipped and a
crash leaves both the inbox row and the projection change, or neither."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from apps.common.messaging.consumers import EventConsumer, ReceivedEvent, event_apply
from apps.common.messaging.inbox import inbox_purge
from apps.reporting.models import InboxEvent
from apps.reporting.services.projections import PROJECTIONS

logger = logging.getLogger(__name__)

DB = "reporting"


def reporting_event_apply(envelope: dict) -> bool:
    """Apply one event envelope as the reporting consumer does for a delivered message: schema
    check, inbox, projection. True if applied now; False if applied before or not an event type
    reporting reads. Raises apps.common.messaging.consumers.InvalidEvent when it breaks its contract."""
    event_type = envelope.get("type") if isinstance(envelope, dict) else None
    if event_type is not None and not CONSUMER.wants(str(event_type)):
        return False
    return event_apply(consumer=CONSUMER, envelope=envelope)


def event_project(event: ReceivedEvent) -> None:
    """The consumer's handler: change the projections for one event. Runs inside the inbox
    transaction on the reporting alias (apps.common.messaging.inbox.inbox_apply)."""
    handler = PROJECTIONS.get((event.type, event.version))
    if handler is None:
        logger.debug("reporting has nothing to project for %s v%s", event.type, event.version)
        return
    # Facts are compared by time: make it aware (a producer bug must not crash the consumer) and UTC,
    # whose date is the report day.
    at = event.occurred_at if event.occurred_at.tzinfo is not None else event.occurred_at.replace(tzinfo=dt.UTC)
    handler(dataclasses.replace(event, occurred_at=at.astimezone(dt.UTC)))


CONSUMER = EventConsumer(
    name="reporting",
    bindings=("orders.#", "payments.#"),  # the queue's bindings on the domain-events exchange
    handler=event_project,
    inbox=InboxEvent,
    using=DB,
)


def reporting_inbox_purge(*, older_than: dt.timedelta) -> int:
    """Forget inbox rows older than any redelivery can arrive. Safe even if one does: every
    projection change is idempotent on its own (earliest/latest times, refunds keyed by event id,
    cumulative payment amounts); the inbox spares the work and records what was applied."""
    return inbox_purge(model=InboxEvent, using=DB, older_than=older_than)
