"""The delivery status machine: the only place that says which transitions are allowed.

    pending --claim--> sending --2xx/accepted--> delivered
                          |--transient, attempts left--> failed --claim--> sending
                          |--permanent or exhausted----> dead --replay--> pending
    sending --worker died mid-attempt (claim taken over)--> failed

Every transition writes its audit row. A claim's row (pending or failed -> sending) is written
with the attempt's outcome, in one INSERT with the outcome's row and dated when the claim was
made; for an attempt that never ended, by the attempt that takes its claim over."""

from __future__ import annotations

from django.utils import timezone

from apps.notifications.errors import DeliveryTransitionNotAllowed
from apps.notifications.models import Delivery, DeliveryTransition

S = Delivery.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.SENDING, S.DEAD}),
    S.SENDING: frozenset({S.DELIVERED, S.FAILED, S.DEAD}),
    S.FAILED: frozenset({S.SENDING, S.DEAD}),
    S.DEAD: frozenset({S.PENDING}),
    S.DELIVERED: frozenset(),
}

CLAIMABLE = frozenset({S.PENDING, S.FAILED})


def transition_check(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise DeliveryTransitionNotAllowed(f"A delivery that is {current} cannot become {target}.")


def delivery_transition(delivery: Delivery, target: str, *, reason: str = "", actor=None,
                        update_fields: tuple[str, ...] = ()) -> None:
    """Move a locked delivery to `target`, saving `update_fields` with it, and audit the change."""
    transition_check(delivery.status, target)
    source = delivery.status
    delivery.status = target
    delivery.save(update_fields=["status", "updated_at", *update_fields])
    DeliveryTransition.objects.create(delivery=delivery, from_status=source, to_status=target,
                                      reason=reason[:500], actor=actor)


def deliveries_created(deliveries: list[Delivery], *, reason: str) -> None:
    rows = [DeliveryTransition(delivery=delivery, from_status="", to_status=delivery.status, reason=reason[:500])
            for delivery in deliveries]
    if len(rows) == 1:
        rows[0].save(force_insert=True)  # for one row, bulk_create costs more CPU than an INSERT
    else:
        DeliveryTransition.objects.bulk_create(rows)


def delivery_claim(delivery: Delivery, *, claim: str, now) -> DeliveryTransition | None:
    """Move a delivery, as read, to sending under `claim` (its next attempt), in one UPDATE
    conditional on the version read (status, claim and last change): None, and nothing written,
    when something changed it first. Returns the claim's audit row, not yet written."""
    transition_check(delivery.status, S.SENDING)
    source, attempts = delivery.status, delivery.attempts + 1
    moved = Delivery.objects.filter(pk=delivery.pk, status=source, claim_token=delivery.claim_token,
                                    updated_at=delivery.updated_at).update(
        status=S.SENDING, attempts=attempts, claim_token=claim, claimed_at=now, next_attempt_at=None, updated_at=now)
    if not moved:
        return None
    delivery.status, delivery.attempts, delivery.claim_token = S.SENDING, attempts, claim
    delivery.claimed_at, delivery.next_attempt_at, delivery.updated_at = now, None, now
    return DeliveryTransition(delivery=delivery, from_status=source, to_status=S.SENDING,
                              reason=f"attempt {attempts}", created_at=now)


def delivery_claim_audit(delivery: Delivery) -> DeliveryTransition:
    """The audit row of the claim a delivery is sending under, as delivery_claim returned it to
    an attempt that never wrote it. Only a claim from pending starts at attempt 1 (a replay
    resets the count; a failed delivery has had an attempt)."""
    source = S.PENDING if delivery.attempts == 1 else S.FAILED
    return DeliveryTransition(delivery=delivery, from_status=source, to_status=S.SENDING,
                              reason=f"attempt {delivery.attempts}", created_at=delivery.claimed_at)


def delivery_transition_claimed(delivery: Delivery, target: str, *, claim: str, claimed: DeliveryTransition,
                                reason: str = "", update_fields: tuple[str, ...] = ()) -> bool:
    """Move a delivery that `claim` still holds (sending, under that claim) to `target` in one
    conditional UPDATE, saving `update_fields` with it, and write the claim's audit row
    (`claimed`) and this one; False, and nothing written, when another attempt took the claim
    over meanwhile (that attempt wrote the claim's row)."""
    transition_check(S.SENDING, target)
    values = {field: getattr(delivery, field) for field in update_fields}
    moved = Delivery.objects.filter(pk=delivery.pk, status=S.SENDING, claim_token=claim).update(
        status=target, updated_at=timezone.now(), **values)
    if not moved:
        return False
    delivery.status = target
    DeliveryTransition.objects.bulk_create([
        claimed, DeliveryTransition(delivery=delivery, from_status=S.SENDING, to_status=target, reason=reason[:500])])
    return True
