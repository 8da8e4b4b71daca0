"""The payment status machine: the only place that says which transitions are allowed, and from
which statuses each operation may start. Every service goes through it."""

from decimal import Decimal

from apps.payments.errors import PaymentNotAllowed
from apps.payments.models import Payment, PaymentTransaction

S = Payment.Status
Op = PaymentTransaction.Operation

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.AUTHORIZED, S.FAILED}),
    S.AUTHORIZED: frozenset({S.PARTIALLY_CAPTURED, S.CAPTURED, S.VOIDED}),
    # Voiding a partially captured payment releases the rest: nothing is left to capture.
    S.PARTIALLY_CAPTURED: frozenset({S.PARTIALLY_CAPTURED, S.CAPTURED}),
    S.CAPTURED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.REFUNDED: frozenset(),
    S.VOIDED: frozenset(),
    S.FAILED: frozenset(),
}

TERMINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)

# The statuses an operation may start from (authorize creates the payment, in `pending`).
# Refunds need the authorization settled (captured in full, or the rest voided) first.
OPERATION_FROM: dict[str, frozenset[str]] = {
    Op.CAPTURE: frozenset({S.AUTHORIZED, S.PARTIALLY_CAPTURED}),
    Op.VOID: frozenset({S.AUTHORIZED, S.PARTIALLY_CAPTURED}),
    Op.REFUND: frozenset({S.CAPTURED, S.PARTIALLY_REFUNDED}),
}


def transition_check(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise PaymentNotAllowed(f"A payment that is {current} cannot become {target}.")


def operation_check(current: str, operation: str) -> None:
    if current not in OPERATION_FROM[operation]:
        raise PaymentNotAllowed(f"A payment that is {current} cannot be {_PAST[operation]}.")


_PAST = {Op.CAPTURE: "captured", Op.VOID: "voided", Op.REFUND: "refunded"}


def status_after_authorize(*, approved: bool) -> str:
    return S.AUTHORIZED if approved else S.FAILED


def status_after_capture(*, authorized: Decimal, captured: Decimal) -> str:
    return S.CAPTURED if captured == authorized else S.PARTIALLY_CAPTURED


def status_after_void(*, captured: Decimal) -> str:
    return S.CAPTURED if captured > 0 else S.VOIDED


def status_after_refund(*, captured: Decimal, refunded: Decimal) -> str:
    return S.REFUNDED if refunded == captured else S.PARTIALLY_REFUNDED
