"""The sandbox provider: an in-house processor for development, demos and tests. It behaves like
a real one (authorizations with amounts it enforces, idempotency by key, lookups, webhooks in
the shared format) and is deterministic: the outcome depends only on the token and the amounts.

Test tokens (authorize):

=========================  =====================================================================
token                      outcome
=========================  =====================================================================
``tok_approved``           approved
``tok_declined``           declined, decline code ``card_declined``
``tok_insufficient_funds`` declined, decline code ``insufficient_funds``
``tok_processing_error``   failed at the processor, code ``processing_error`` (try again later)
``tok_timeout``            the processor approves, but the answer is lost: the call times out
                           (outcome unknown) and ``lookup`` later says approved
``tok_timeout_lost``       the request is lost on its way: the call times out and ``lookup``
                           later says the processor never received it
anything else              declined, decline code ``invalid_token``
=========================  =====================================================================

Capture, void and refund of a sandbox authorization are approved within its amounts and
declined beyond them (``amount_too_large``, ``authorization_voided``, ``unknown_authorization``).

The sandbox keeps its own ledger (what "the processor" knows) in the Django cache, outside our
database transactions, so that every process (web, worker) sees the same processor. It counts
the calls it receives per idempotency key: ``sandbox_calls(key)``."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.core.cache import cache

from apps.payments.providers.base import (
    Outcome,
    PaymentProvider,
    ProviderOutcomeUnknown,
    ProviderResult,
)

_TTL = 7 * 24 * 3600
_PREFIX = "payments:sandbox"

# Tokens whose answer never comes back: the processor approved (lookup knows), or never got it.
_LOST_ANSWER, _LOST_REQUEST = "tok_timeout", "tok_timeout_lost"
_AUTHORIZE_OUTCOMES = {
    "tok_approved": (Outcome.APPROVED, ""),
    "tok_timeout": (Outcome.APPROVED, ""),
    "tok_declined": (Outcome.DECLINED, "card_declined"),
    "tok_insufficient_funds": (Outcome.DECLINED, "insufficient_funds"),
    "tok_processing_error": (Outcome.FAILED, "processing_error"),
}
# bandit B105: decline messages keyed by code, not passwords
_MESSAGES = {  # nosec B105
    "card_declined": "The card was declined.",
    "insufficient_funds": "The card has insufficient funds.",
    "processing_error": "The processor could not process the request; try again later.",
    "invalid_token": "The payment method token is not valid.",
    "amount_too_large": "The amount exceeds what the authorization allows.",
    "authorization_voided": "The authorization was voided.",
    "unknown_authorization": "No such authorization.",
}


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _op_key(idempotency_key: str) -> str:
    return f"{_PREFIX}:op:{_digest(idempotency_key)}"


def _calls_key(idempotency_key: str) -> str:
    return f"{_PREFIX}:calls:{_digest(idempotency_key)}"


def _auth_key(reference: str) -> str:
    return f"{_PREFIX}:auth:{reference}"


def sandbox_calls(idempotency_key: str) -> int:
    """How many requests with this idempotency key reached the sandbox processor."""
    return int(cache.get(_calls_key(idempotency_key)) or 0)


def _result_to_dict(result: ProviderResult) -> dict:
    return {"status": str(result.outcome), "reference": result.reference, "decline_code": result.decline_code,
            "message": result.message}


def _result_from_dict(stored: dict, idempotency_key: str) -> ProviderResult:
    return ProviderResult(outcome=Outcome(stored["status"]), reference=stored["reference"],
                          decline_code=stored["decline_code"], message=stored["message"],
                          raw={**stored, "idempotency_key": idempotency_key, "provider": "sandbox"})


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def _received(self, idempotency_key: str) -> ProviderResult | None:
        """Count the call; a key seen before gets its first answer again (processor idempotency)."""
        calls_key = _calls_key(idempotency_key)
        cache.add(calls_key, 0, timeout=_TTL)
        cache.incr(calls_key)
        stored = cache.get(_op_key(idempotency_key))
        return None if stored is None else _result_from_dict(stored, idempotency_key)

    def _answer(self, idempotency_key: str, outcome: Outcome, code: str = "", reference: str = "") -> ProviderResult:
        result = ProviderResult(outcome=outcome, reference=reference, decline_code=code,
                                message=_MESSAGES.get(code, ""))
        cache.set(_op_key(idempotency_key), _result_to_dict(result), timeout=_TTL)
        return _result_from_dict(_result_to_dict(result), idempotency_key)

    def authorize(self, *, amount: Decimal, currency: str, token: str, idempotency_key: str) -> ProviderResult:
        if token == _LOST_REQUEST:
            raise ProviderOutcomeUnknown("sandbox: no answer (the request was lost on its way)")
        replay = self._received(idempotency_key)
        if replay is not None:
            return replay
        outcome, code = _AUTHORIZE_OUTCOMES.get(token, (Outcome.DECLINED, "invalid_token"))
        reference = ""
        if outcome == Outcome.APPROVED:
            reference = f"sbx_auth_{_digest(idempotency_key)[:24]}"
            cache.set(_auth_key(reference), {"amount": str(amount), "currency": currency, "captured": "0",
                                             "refunded": "0", "voided": False}, timeout=_TTL)
        result = self._answer(idempotency_key, outcome, code, reference)
        if token == _LOST_ANSWER:
            raise ProviderOutcomeUnknown("sandbox: no answer (read timed out)")
        return result

    def _operate(self, reference: str, idempotency_key: str, prefix: str, change) -> ProviderResult:
        replay = self._received(idempotency_key)
        if replay is not None:
            return replay
        auth = cache.get(_auth_key(reference))
        if auth is None:
            return self._answer(idempotency_key, Outcome.DECLINED, "unknown_authorization")
        code = change(auth)
        if code:
            return self._answer(idempotency_key, Outcome.DECLINED, code)
        cache.set(_auth_key(reference), auth, timeout=_TTL)
        return self._answer(idempotency_key, Outcome.APPROVED, "", f"sbx_{prefix}_{_digest(idempotency_key)[:24]}")

    def capture(self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str) -> ProviderResult:
        def change(auth: dict) -> str:
            if auth["voided"]:
                return "authorization_voided"
            if Decimal(auth["captured"]) + amount > Decimal(auth["amount"]):
                return "amount_too_large"
            auth["captured"] = str(Decimal(auth["captured"]) + amount)
            return ""

        return self._operate(reference, idempotency_key, "cap", change)

    def void(self, *, reference: str, idempotency_key: str) -> ProviderResult:
        def change(auth: dict) -> str:
            if auth["voided"]:
                return "authorization_voided"
            auth["voided"] = True
            return ""

        return self._operate(reference, idempotency_key, "void", change)

    def refund(self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str) -> ProviderResult:
        def change(auth: dict) -> str:
            if Decimal(auth["refunded"]) + amount > Decimal(auth["captured"]):
                return "amount_too_large"
            auth["refunded"] = str(Decimal(auth["refunded"]) + amount)
            return ""

        return self._operate(reference, idempotency_key, "ref", change)

    def lookup(self, *, idempotency_key: str) -> ProviderResult | None:
        stored = cache.get(_op_key(idempotency_key))
        return None if stored is None else _result_from_dict(stored, idempotency_key)
