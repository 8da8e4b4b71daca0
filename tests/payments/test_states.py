from decimal import Decimal

import pytest

from apps.payments.api import PaymentNotAllowed
from apps.payments.models import Payment, PaymentTransaction
from apps.payments.states import (
    OPERATION_FROM,
    TERMINAL,
    TRANSITIONS,
    operation_check,
    status_after_capture,
    status_after_refund,
    status_after_void,
    transition_check,
)

S = Payment.Status
Op = PaymentTransaction.Operation

ALLOWED = {
    (S.PENDING, S.AUTHORIZED), (S.PENDING, S.FAILED),
    (S.AUTHORIZED, S.PARTIALLY_CAPTURED), (S.AUTHORIZED, S.CAPTURED), (S.AUTHORIZED, S.VOIDED),
    (S.PARTIALLY_CAPTURED, S.PARTIALLY_CAPTURED), (S.PARTIALLY_CAPTURED, S.CAPTURED),
    (S.CAPTURED, S.PARTIALLY_REFUNDED), (S.CAPTURED, S.REFUNDED),
    (S.PARTIALLY_REFUNDED, S.PARTIALLY_REFUNDED), (S.PARTIALLY_REFUNDED, S.REFUNDED),
}


def test_the_table_covers_every_status():
    assert set(TRANSITIONS) == set(S.values)
    assert all(targets <= set(S.values) for targets in TRANSITIONS.values())


@pytest.mark.parametrize("current", S.values)
@pytest.mark.parametrize("target", S.values)
def test_exactly_the_listed_transitions_are_allowed(current, target):
    if (current, target) in ALLOWED:
        transition_check(current, target)
    else:
        with pytest.raises(PaymentNotAllowed, match=f"{current} cannot become {target}"):
            transition_check(current, target)


def test_refunded_voided_and_failed_are_terminal():
    assert frozenset({S.REFUNDED, S.VOIDED, S.FAILED}) == TERMINAL


@pytest.mark.parametrize(("operation", "allowed"), [
    (Op.CAPTURE, {S.AUTHORIZED, S.PARTIALLY_CAPTURED}),
    (Op.VOID, {S.AUTHORIZED, S.PARTIALLY_CAPTURED}),
    (Op.REFUND, {S.CAPTURED, S.PARTIALLY_REFUNDED}),
])
def test_each_operation_starts_only_from_its_statuses(operation, allowed):
    assert OPERATION_FROM[operation] == allowed
    for status in S.values:
        if status in allowed:
            operation_check(status, operation)
        else:
            with pytest.raises(PaymentNotAllowed):
                operation_check(status, operation)


def test_the_amounts_decide_between_partial_and_full():
    assert status_after_capture(authorized=Decimal("10.00"), captured=Decimal("4.00")) == S.PARTIALLY_CAPTURED
    assert status_after_capture(authorized=Decimal("10.00"), captured=Decimal("10.00")) == S.CAPTURED
    assert status_after_refund(captured=Decimal("10.00"), refunded=Decimal("3.00")) == S.PARTIALLY_REFUNDED
    assert status_after_refund(captured=Decimal("10.00"), refunded=Decimal("10.00")) == S.REFUNDED
    assert status_after_void(captured=Decimal(0)) == S.VOIDED
    assert status_after_void(captured=Decimal("4.00")) == S.CAPTURED
