"""The one interface every payment provider adapter implements, and its typed outcomes.

An adapter answers each operation with a ProviderResult whose outcome is definitive
(approved, declined, failed), or raises:
- ProviderNotReached: the request never reached the provider; nothing happened there.
- ProviderOutcomeUnknown: the request may have been processed (read timeout, 5xx, broken
  answer). Never retried blindly: reconciliation asks the provider with `lookup`.

Every call carries our idempotency key, so the provider applies an operation at most once."""

from __future__ import annotations

import abc
import dataclasses
import enum
from decimal import Decimal
from typing import Any


class Outcome(enum.StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"  # the provider refused it (the card, the funds, the request)
    FAILED = "failed"  # the provider could not process it (its error): not done, try again later


@dataclasses.dataclass(frozen=True)
class ProviderResult:
    outcome: Outcome
    reference: str = ""  # authorize: the provider's authorization id; other operations: their own id
    decline_code: str = ""
    message: str = ""
    raw: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class WebhookNotice:
    """What a provider's webhook tells us: the outcome of one operation, named by our key."""

    event_id: str
    event_type: str
    idempotency_key: str
    result: ProviderResult


class ProviderUnavailable(Exception):
    pass


class ProviderNotReached(ProviderUnavailable):
    """Connection refused or not established in time: the provider did not get the request."""


class ProviderOutcomeUnknown(ProviderUnavailable):
    """The request was sent but no usable answer came back: it may or may not have been applied."""


class InvalidWebhook(ValueError):
    pass


class PaymentProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    def authorize(self, *, amount: Decimal, currency: str, token: str, idempotency_key: str) -> ProviderResult:
        """Hold `amount` on the payment method `token`."""

    @abc.abstractmethod
    def capture(self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str) -> ProviderResult:
        """Take `amount` of the authorization `reference`."""

    @abc.abstractmethod
    def void(self, *, reference: str, idempotency_key: str) -> ProviderResult:
        """Release what remains of the authorization `reference`."""

    @abc.abstractmethod
    def refund(self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str) -> ProviderResult:
        """Give back `amount` of what was captured on the authorization `reference`."""

    @abc.abstractmethod
    def lookup(self, *, idempotency_key: str) -> ProviderResult | None:
        """The outcome of the operation sent with `idempotency_key`, or None when the provider
        has no record of it (it never arrived)."""

    @classmethod
    def webhook_notice(cls, payload: Any) -> WebhookNotice:
        """Parse a (signature-verified) webhook body. The format our adapters share:
        {"id": "evt_...", "type": "operation.approved", "data": {"idempotency_key": "...",
         "status": "approved|declined|failed", "reference": "...", "decline_code": "", "message": ""}}"""
        try:
            data = payload["data"]
            notice = WebhookNotice(
                event_id=str(payload["id"]), event_type=str(payload.get("type", "")),
                idempotency_key=str(data["idempotency_key"]),
                result=ProviderResult(outcome=Outcome(data["status"]), reference=str(data.get("reference") or ""),
                                      decline_code=str(data.get("decline_code") or ""),
                                      message=str(data.get("message") or "")[:255], raw=payload),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidWebhook(f"Not a webhook of {cls.name}: {exc!r}") from exc
        if not notice.event_id or not notice.idempotency_key:
            raise InvalidWebhook("A webhook needs an event id and an idempotency key.")
        return notice
