"""Idempotency-Key for state-changing endpoints (the IETF httpapi draft, Stripe's semantics).

The key is scoped to the caller and the route (method + path); the request body is
fingerprinted with SHA-256. The first request with a key claims it; a retry gets the stored
response with `Idempotent-Replayed: true`; a retry while the first runs gets 409; the same key
with another body gets 422; a request without a key gets 400. Results are stored once
execution has started, 5xx included: the exact bytes and headers of the rendered answer, so a
retry gets byte for byte what the first request got. A claim whose holder died (older than the
lock timeout) can be taken over, so a crash never leaves a key stuck."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBase
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from apps.common.http.problems import PROBLEM_CONTENT_TYPE, ApplicationError
from apps.common.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# What a key may be, as the OpenAPI schema documents it and the decorator checks it: 1 to 255
# printable ASCII characters (a header value carries no other text reliably).
KEY_PATTERN = r"^[ -~]{1,255}$"


class IdempotencyKeyMissing(ApplicationError):
    code, status, title = "idempotency_key_missing", 400, "This request needs an Idempotency-Key header."


class IdempotencyKeyInvalid(ApplicationError):
    code, status, title = "idempotency_key_invalid", 400, "The Idempotency-Key must be 1 to 255 printable characters."


def idempotency_key_parameter(description: str = "A unique key per intended operation; retries reuse it.",
                              ) -> OpenApiParameter:
    """The Idempotency-Key header of an @idempotent operation, for @extend_schema(parameters=...)."""
    return OpenApiParameter(HEADER, str, OpenApiParameter.HEADER, required=True, pattern=KEY_PATTERN,
                            description=description)


class IdempotencyKeyInFlight(ApplicationError):
    code, status, title = "idempotency_key_in_flight", 409, "A request with this Idempotency-Key is still running."


class IdempotencyKeyReused(ApplicationError):
    code, status, title = "idempotency_key_reused", 422, "This Idempotency-Key was used with a different request."


def lock_timeout() -> timedelta:
    return timedelta(seconds=getattr(settings, "IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", 300))


def request_fingerprint(data) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def request_scope(request) -> str:
    caller = f"user:{request.user.pk}" if request.user.is_authenticated else f"anon:{request.META.get('REMOTE_ADDR')}"
    return f"{caller} {request.method} {request.path}"[:200]


def _claim(scope: str, key: str, fingerprint: str) -> IdempotencyKey | HttpResponseBase:
    """Claim the key, or answer for it: a stored response, 409 while in flight, 422 on reuse."""
    now = timezone.now()
    try:
        # Outside a transaction the INSERT is one autocommit statement, and a duplicate leaves
        # nothing to roll back; inside one (tests, a caller's atomic), a savepoint keeps it usable.
        with transaction.atomic() if transaction.get_connection().in_atomic_block else contextlib.nullcontext():
            return IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=fingerprint,
                                                 locked_at=now, created_at=now)
    except IntegrityError:
        pass
    existing = IdempotencyKey.objects.get(scope=scope, key=key)
    if existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if existing.status == IdempotencyKey.Status.COMPLETED:
        return _replay(existing)
    stale_before = now - lock_timeout()
    taken = IdempotencyKey.objects.filter(pk=existing.pk, status=IdempotencyKey.Status.IN_FLIGHT,
                                          locked_at__lt=stale_before).update(locked_at=now)
    if taken:
        existing.locked_at = now
        return existing
    raise IdempotencyKeyInFlight(headers={"Retry-After": "1"})


def _replay(stored: IdempotencyKey) -> HttpResponseBase:
    headers = {**stored.response_headers, REPLAYED_HEADER: "true"}
    if stored.response_content is not None:
        return HttpResponse(bytes(stored.response_content), status=stored.response_status, headers=headers)
    # Stored before the exact bytes were (migration 0002): its body as JSON, re-rendered.
    content_type = headers.pop("Content-Type", None)
    return Response(stored.response_body, status=stored.response_status, headers=headers,
                    content_type=content_type if content_type == PROBLEM_CONTENT_TYPE else None)


def _store(claim: IdempotencyKey, response: HttpResponseBase) -> None:
    """Keep the answer as sent: DRF renders it after the view returns, so wait for that."""

    def store_rendered(rendered: HttpResponseBase) -> None:
        IdempotencyKey.objects.filter(pk=claim.pk).update(
            status=IdempotencyKey.Status.COMPLETED, response_status=rendered.status_code,
            response_content=rendered.content, response_headers=dict(rendered.items()),
        )

    if getattr(response, "is_rendered", True):
        store_rendered(response)
    else:
        response.add_post_render_callback(store_rendered)


def idempotent(view_method):
    """Decorate a DRF view method (or viewset action) that changes state."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            raise IdempotencyKeyMissing()
        if not re.fullmatch(KEY_PATTERN, key):
            raise IdempotencyKeyInvalid()
        claim = _claim(request_scope(request), key, request_fingerprint(request.data))
        if isinstance(claim, HttpResponseBase):
            return claim
        try:
            response = view_method(self, request, *args, **kwargs)
        except Exception as exc:
            # Execution started: store whatever the API answers, errors and 5xx included.
            response = self.handle_exception(exc)
        _store(claim, response)
        return response

    return wrapper


def idempotency_keys_purge(*, older_than: timedelta | None = None) -> int:
    """Remove keys past their retention (at least 24 hours)."""
    retention = older_than or timedelta(hours=getattr(settings, "IDEMPOTENCY_KEY_RETENTION_HOURS", 24))
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - retention).delete()
    return deleted

