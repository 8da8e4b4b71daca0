"""Typed errors of payments; each is an API problem with a stable code. apps.payments.api
re-exports them for other apps. This module imports nothing of the app, so any module of it
may import this one."""

from apps.common.http.problems import ApplicationError, NotFound, ServiceUnavailable


class PaymentDeclined(ApplicationError):
    code, status, title = "payment_declined", 402, "The payment was declined."


class PaymentProviderUnavailable(ServiceUnavailable):
    """The provider is down, timed out or the circuit breaker is open: try again later."""

    code, status, title = "payment_provider_unavailable", 503, "The payment provider is unavailable."


class PaymentNotAllowed(ApplicationError):
    """The payment's state or amounts do not allow this operation (e.g. capture more than authorized)."""

    code, status, title = "payment_not_allowed", 409, "The payment does not allow this operation."


class PaymentNotFound(NotFound):
    """No payment has this id."""


class PaymentRequestInvalid(ApplicationError):
    """The amount, currency or payment method cannot be used (e.g. more decimals than the currency has)."""

    code, status, title = "payment_request_invalid", 422, "The payment request is invalid."


class PaymentIdempotencyKeyReused(ApplicationError):
    """The idempotency key was already used for this operation with other arguments."""

    code, status, title = ("payment_idempotency_key_reused", 422,
                           "This idempotency key was used for a different payment operation.")
