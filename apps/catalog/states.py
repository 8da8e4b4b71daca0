"""The reservation status machine: the only place that says which transitions are allowed and
what each one does to the SKU's stock counters."""

from django.db.models import F

from apps.catalog.errors import ReservationTransitionNotAllowed
from apps.catalog.models import Reservation

S = Reservation.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.HELD, S.RELEASED, S.EXPIRED}),
    S.HELD: frozenset({S.COMMITTED, S.RELEASED, S.EXPIRED}),
    # A hold that was given back may be taken again by the same order (stock_reserve again).
    S.RELEASED: frozenset({S.PENDING}),
    S.EXPIRED: frozenset({S.PENDING}),
    S.COMMITTED: frozenset(),
}


def transition_check(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise ReservationTransitionNotAllowed(f"A reservation that is {current} cannot become {target}.")


def stock_effect(current: str, target: str, quantity: int) -> dict:
    """The counter changes (F expressions) of a transition; {} when the stock is untouched.

    pending -> held takes units (conditionally, in services.reservations._stock_take); pending -> released
    or expired takes nothing: a pending row never holds units that the counters must give back
    (the writer that took them gives them back itself, or the sweeper recomputes)."""
    transition_check(current, target)
    if current == S.HELD and target in (S.RELEASED, S.EXPIRED):
        return {"available": F("available") + quantity, "held": F("held") - quantity}
    if current == S.HELD and target == S.COMMITTED:
        return {"held": F("held") - quantity, "committed": F("committed") + quantity,
                "on_hand": F("on_hand") - quantity}
    return {}
