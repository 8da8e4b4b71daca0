"""The delivery status machine: the only place that says which transitions are allowed.

    pending --claim--> sending --2xx/accepted--> delivered
                          |--transient, attempts left--> failed --claim--> sending
                          |--permanent or exhausted----> dead --replay--> pending
    sending --worker died mid-attempt (claim taken over)--> failed
"""

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
    DeliveryTransition.objects.bulk_create([
        DeliveryTransition(delivery=delivery, from_status="", to_status=delivery.status, reason=reason[:500])
        for delivery in deliveries])


def delivery_transition_claimed(delivery: Delivery, target: str, *, claim: str, reason: str = "",
                                update_fields: tuple[str, ...] = ()) -> bool:
    """Move a delivery that `claim` still holds (sending, under that claim) to `target` in one
    conditional UPDATE, saving `update_fields` with it, and audit the change; False, and nothing
    written, when another attempt took the claim over meanwhile."""
    transition_check(S.SENDING, target)
    values = {field: getattr(delivery, field) for field in update_fields}
    moved = Delivery.objects.filter(pk=delivery.pk, status=S.SENDING, claim_token=claim).update(
        status=target, updated_at=timezone.now(), **values)
    if not moved:
        return False
    delivery.status = target
    DeliveryTransition.objects.create(delivery=delivery, from_status=S.SENDING, to_status=target, reason=reason[:500])
    return True
