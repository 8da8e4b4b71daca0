"""What one delivery attempt came to, and how an HTTP send and its answer are classified."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import enum
import math

import requests
import urllib3
from django.utils import timezone

# What is kept of a receiver's answer; and how much more of it is read (and thrown away) so that
# its connection can serve the next request. A longer answer costs its connection, not more reads.
EXCERPT_BYTES = 500
DRAIN_BYTES = 64 * 1024


class AttemptKind(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # transient failure: again after retry_in seconds
    DEAD = "dead"  # permanent failure or retries exhausted: dead-lettered
    BUSY = "busy"  # another worker holds the delivery's claim: look again after retry_in seconds
    SKIPPED = "skipped"  # nothing to do (no such delivery, already final, claim taken over)


@dataclasses.dataclass(frozen=True)
class AttemptOutcome:
    kind: AttemptKind
    retry_in: int = 0
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class SendResult:
    status_code: int | None = None
    excerpt: str = ""


class DeliveryFailed(Exception):
    """An attempt failed. Permanent failures are not retried; transient ones are, after the
    backoff or the receiver's Retry-After, whichever is longer."""

    def __init__(self, error: str, *, permanent: bool, status_code: int | None = None,
                 retry_after: int | None = None, excerpt: str = ""):
        super().__init__(error)
        self.error = error
        self.permanent = permanent
        self.status_code = status_code
        self.retry_after = retry_after
        self.excerpt = excerpt


def retry_after_seconds(value: str | None) -> int | None:
    """Retry-After as delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0, math.ceil((when - timezone.now()).total_seconds()))


def http_outcome(status_code: int, headers, excerpt: str) -> SendResult:
    """2xx delivered; 408, 429 and 5xx transient (Retry-After honoured); anything else, redirects
    included (never followed), permanent."""
    if 200 <= status_code < 300:
        return SendResult(status_code=status_code, excerpt=excerpt)
    if status_code in (408, 429) or status_code >= 500:
        raise DeliveryFailed(f"HTTP {status_code}", permanent=False, status_code=status_code,
                             retry_after=retry_after_seconds(headers.get("Retry-After")), excerpt=excerpt)
    if 300 <= status_code < 400:
        raise DeliveryFailed(f"HTTP {status_code}: redirects are not followed", permanent=True,
                             status_code=status_code, excerpt=excerpt)
    raise DeliveryFailed(f"HTTP {status_code}", permanent=True, status_code=status_code, excerpt=excerpt)


def http_post(client, url: str, *, receiver: str, **kwargs) -> SendResult:
    """POST with `client` (requests, or a session) and classify the answer (http_outcome): a
    timeout or a failed connection is transient, any other request error permanent. Redirects
    are not followed; `receiver` names the other side in errors."""
    try:
        with client.post(url, allow_redirects=False, stream=True, **kwargs) as response:
            excerpt = response.raw.read(EXCERPT_BYTES, decode_content=True).decode("utf-8", "replace")
            _drain(response.raw)
            return http_outcome(response.status_code, response.headers, excerpt)
    except requests.Timeout as exc:
        raise DeliveryFailed(f"{receiver} timed out: {exc}", permanent=False) from exc
    except requests.ConnectionError as exc:
        raise DeliveryFailed(f"cannot reach {receiver}: {exc}", permanent=False) from exc
    except requests.RequestException as exc:
        raise DeliveryFailed(f"request to {receiver} failed: {exc}", permanent=True) from exc


def _drain(raw) -> None:
    """Read the rest of a short answer: its connection then goes back to the pool (urllib3
    releases it at the body's end). A longer or broken one is left, and closed with the response."""
    left = DRAIN_BYTES
    try:
        while left > 0 and (chunk := raw.read(min(left, 8192), decode_content=True)):
            left -= len(chunk)
    except (urllib3.exceptions.HTTPError, OSError):
        return
