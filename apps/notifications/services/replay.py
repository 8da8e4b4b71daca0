"""Replay: a dead delivery gets a new cycle of attempts (its history stays), and its message
leaves the dead-letter queue."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from apps.common.http.problems import NotFound
from apps.notifications import states
from apps.notifications.dead_letters import dead_letters_remove
from apps.notifications.errors import DeliveryNotReplayable
from apps.notifications.models import Delivery
from apps.notifications.services.fanout import deliveries_enqueue

logger = logging.getLogger(__name__)

S = Delivery.Status


def delivery_replay(*, delivery_id: int, actor=None, drain: bool = True) -> Delivery:
    """Give a dead delivery a new cycle of attempts (its attempt history stays)."""
    if drain:
        _drain(delivery_ids={delivery_id})
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound("No such delivery.")
        if delivery.status != S.DEAD:
            raise DeliveryNotReplayable(f"The delivery is {delivery.status}, not dead.")
        delivery.attempts, delivery.claim_token, delivery.claimed_at = 0, "", None
        delivery.next_attempt_at, delivery.dead_at = timezone.now(), None
        who = f" by {actor}" if actor is not None else ""
        states.delivery_transition(delivery, S.PENDING, reason=f"replayed{who}", actor=actor,
                                   update_fields=("attempts", "claim_token", "claimed_at", "next_attempt_at",
                                                  "dead_at"))
        transaction.on_commit(lambda: deliveries_enqueue([delivery_id]))
    return delivery


def deliveries_replay_dead(*, delivery_ids: Iterable[int] | None = None, event_type: str | None = None,
                           channel: str | None = None, actor=None) -> int:
    """Replay dead deliveries (all, or those selected) and clear their dead letters."""
    dead = Delivery.objects.filter(status=S.DEAD)
    selected = delivery_ids is not None or event_type or channel
    if delivery_ids is not None:
        dead = dead.filter(pk__in=list(delivery_ids))
    if event_type:
        dead = dead.filter(event_type=event_type)
    if channel:
        dead = dead.filter(channel=channel)
    ids = list(dead.values_list("pk", flat=True))
    # Everything when nothing is selected: messages of deliveries replayed before are stale too.
    _drain(delivery_ids=set(ids) if selected else None)
    replayed = 0
    for delivery_id in ids:
        try:
            delivery_replay(delivery_id=delivery_id, actor=actor, drain=False)
        except DeliveryNotReplayable:
            continue  # replayed meanwhile by someone else
        replayed += 1
    return replayed


def _drain(*, delivery_ids: set[int] | None) -> None:
    try:
        dead_letters_remove(delivery_ids=delivery_ids)
    except Exception:
        # The rows are the source of truth: a replay must work while the broker is away.
        logger.exception("could not clear notifications.dead; its depth overstates until the next replay")
