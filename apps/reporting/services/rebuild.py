"""Rebuilding the projections from the archive of published events."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Q

from apps.common.messaging.consumers import InvalidEvent
from apps.common.models import OutboxEvent
from apps.reporting.models import DailySales, InboxEvent, OrderDiscount, OrderRefund, OrderReport, PaymentReport
from apps.reporting.selectors import keyset_batches
from apps.reporting.services.consumer import CONSUMER, DB, reporting_event_apply

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RebuildResult:
    replayed: int  # events read from the archive
    applied: int  # of which changed the projections (the others had been applied meanwhile)
    invalid: int  # of which break their contract: skipped, as the live consumer dead-letters them


def reporting_rebuild(*, batch_size: int = 500) -> RebuildResult:
    """Empty the projections and the inbox, then replay the event archive through
    reporting_event_apply, oldest first.

    The archive is every outbox row of an order or payment event, published or still pending:
    a pending row is a committed fact that the relay has not sent yet, so the rebuilt projection
    includes it, and the inbox entry written here makes the consumer skip it when it arrives.
    Safe while the consumer runs: whatever it applies meanwhile converges with the replay.
    Events purged from the outbox by its retention (OUTBOX_RETENTION_DAYS) are gone for good."""
    with transaction.atomic(using=DB):
        for model in (InboxEvent, OrderDiscount, OrderRefund, OrderReport, PaymentReport, DailySales):
            model.objects.all().delete()
    replayed = applied = invalid = 0
    for envelope in _archive(batch_size=batch_size):
        replayed += 1
        try:
            applied += reporting_event_apply(envelope)
        except InvalidEvent as exc:
            invalid += 1
            logger.error("reporting_rebuild skips %s %s: %s", envelope["type"], envelope["id"], exc)
    return RebuildResult(replayed=replayed, applied=applied, invalid=invalid)


def _archive(*, batch_size: int) -> Iterator[dict]:
    types = Q()
    for pattern in CONSUMER.bindings:  # "orders.#" -> event_type LIKE 'orders.%'
        types |= Q(event_type__startswith=pattern.removesuffix("#"))
    rows = OutboxEvent.objects.using("default").filter(types).order_by("occurred_at", "id")

    def batch(last: OutboxEvent | None):
        after = Q() if last is None else Q(occurred_at__gt=last.occurred_at) | Q(occurred_at=last.occurred_at,
                                                                                 id__gt=last.id)
        return rows.filter(after)[:batch_size]

    for row in keyset_batches(batch, batch_size=batch_size):
        yield row.envelope()
