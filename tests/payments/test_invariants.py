"""Property: no sequence of capture / refund / void calls, with any amounts, breaks the amount
invariants. Each generated sequence runs against the real services, the sandbox processor and
PostgreSQL; an independent model of what each call must do is the oracle."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from apps.payments import api
from apps.payments.models import Payment, PaymentTransaction, Refund
from tests.payments.conftest import authorize

AUTHORIZED = Decimal("100.00")
# None means "all that remains"; the edges (a cent short of, exactly, a cent past the authorized
# amount) and round partial amounts are drawn often, so partial states are reached in most runs.
amounts = st.one_of(
    st.none(),
    st.sampled_from([Decimal(v) for v in ("0.01", "10.00", "25.00", "50.00", "99.99", "100.00", "100.01")]),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("130.00"), places=2),
)


class PaymentOperations(RuleBasedStateMachine):
    @initialize()
    def authorize(self):
        self.payment_id = authorize(amount=str(AUTHORIZED)).payment_id
        self.captured = self.refunded = Decimal(0)
        self.voided = False
        self.calls = 0
        self.last = None

    def _call(self, operation, amount, allowed):
        """Make the call; the model says whether it must succeed. Remembered for a replay."""
        self.calls += 1
        key = f"{self.payment_id}:{self.calls}"
        kwargs = {"payment_id": self.payment_id, "idempotency_key": key}
        if operation != "void":
            kwargs["amount"] = amount
        call = {"capture": api.payment_capture, "refund": api.payment_refund, "void": api.payment_void}[operation]
        if allowed:
            result = call(**kwargs)
        else:
            with pytest.raises(api.PaymentNotAllowed):
                call(**kwargs)
            result = api.PaymentNotAllowed
        self.last = (call, kwargs, result)
        return result

    @rule(amount=amounts)
    def capture(self, amount):
        capturable = Decimal(0) if self.voided or self.refunded else AUTHORIZED - self.captured
        expected = capturable if amount is None else amount
        info = self._call("capture", amount, allowed=0 < expected <= capturable)
        if info is not api.PaymentNotAllowed:
            self.captured += expected
            assert info.amount_captured == self.captured

    @rule(amount=amounts)
    def refund(self, amount):
        settled = self.voided or self.captured == AUTHORIZED
        refundable = self.captured - self.refunded if settled else Decimal(0)
        expected = refundable if amount is None else amount
        info = self._call("refund", amount, allowed=0 < expected <= refundable)
        if info is not api.PaymentNotAllowed:
            self.refunded += expected
            assert info.amount_refunded == self.refunded

    @rule()
    def void(self):
        info = self._call("void", None, allowed=not self.voided and self.captured < AUTHORIZED)
        if info is not api.PaymentNotAllowed:
            self.voided = True

    @rule()
    def replay_the_last_call(self):
        # The same key again: the same answer, and nothing moves.
        if self.last is None:
            return
        call, kwargs, result = self.last
        if result is api.PaymentNotAllowed:
            with pytest.raises(api.PaymentNotAllowed):
                call(**kwargs)
        else:
            assert call(**kwargs) == result

    @invariant()
    def amounts_hold(self):
        payment = Payment.objects.get(pk=self.payment_id)
        assert 0 <= payment.amount_refunded <= payment.amount_captured <= payment.amount_authorized == AUTHORIZED
        assert (payment.amount_captured, payment.amount_refunded) == (self.captured, self.refunded)
        done = PaymentTransaction.objects.filter(payment=payment, outcome="succeeded")
        assert sum(t.amount for t in done.filter(operation="capture")) == payment.amount_captured
        refunds = Refund.objects.filter(payment=payment, status="succeeded")
        assert sum(r.amount for r in refunds) == payment.amount_refunded
        assert payment.status == _expected_status(self)
        assert payment.amount_captured.as_tuple().exponent >= -3


def _expected_status(model) -> str:
    if model.refunded:
        return "refunded" if model.refunded == model.captured else "partially_refunded"
    if model.voided:
        return "captured" if model.captured else "voided"
    if model.captured == AUTHORIZED:
        return "captured"
    return "partially_captured" if model.captured else "authorized"


@pytest.mark.django_db
def test_no_sequence_of_operations_breaks_the_amount_invariants():
    # Every example makes its own payment, so examples sharing the test's transaction is harmless.
    run_state_machine_as_test(PaymentOperations, settings=settings(
        max_examples=60, stateful_step_count=10, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
