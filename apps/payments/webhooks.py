"""Signatures of processor webhooks: HMAC-SHA256 with the provider's secret over
"<timestamp>.<raw body>", sent as

    Webhook-Timestamp: <unix seconds>
    Webhook-Signature: v1=<hex digest>[, v1=<hex digest> ...]   (several while a secret rotates)

A timestamp more than PAYMENTS_WEBHOOK_TOLERANCE_SECONDS away from now is refused, so a
captured request cannot be replayed later."""

from __future__ import annotations

import hashlib
import hmac
import time

from apps.common.http.problems import ApplicationError

TIMESTAMP_HEADER = "Webhook-Timestamp"
SIGNATURE_HEADER = "Webhook-Signature"


class WebhookSignatureInvalid(ApplicationError):
    code, status, title = "webhook_signature_invalid", 400, "The webhook signature is missing, wrong or too old."


class WebhookInvalid(ApplicationError):
    code, status, title = "webhook_invalid", 400, "The webhook body is not a valid event of this provider."


def webhook_sign(*, secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def webhook_signature_verify(*, secret: str, timestamp: str | None, signature: str | None, body: bytes,
                             tolerance_seconds: int, now: float | None = None) -> None:
    if not secret:
        raise WebhookSignatureInvalid("Webhooks of this provider are not accepted (no secret is configured).")
    if not timestamp or not signature:
        raise WebhookSignatureInvalid(f"The {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required.")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise WebhookSignatureInvalid(f"{TIMESTAMP_HEADER} must be a Unix time in seconds.") from exc
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance_seconds:
        raise WebhookSignatureInvalid("The webhook timestamp is outside the tolerance.")
    expected = webhook_sign(secret=secret, timestamp=timestamp, body=body)
    candidates = [part.strip() for part in signature.split(",")]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookSignatureInvalid("The webhook signature does not match.")
