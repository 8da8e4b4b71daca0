"""The order status machine: the only place that says which transitions are allowed."""

from apps.orders.errors import OrderTransitionNotAllowed
from apps.orders.models import Order

S = Order.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.REJECTED, S.PAYMENT_FAILED}),
    S.CONFIRMED: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.REFUNDED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.PAYMENT_FAILED: frozenset(),
}

TERMINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


def transition_check(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise OrderTransitionNotAllowed(f"An order that is {current} cannot become {target}.")
