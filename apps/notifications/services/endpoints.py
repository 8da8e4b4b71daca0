"""Webhook endpoints: registered, changed, given a new secret and deleted; a URL that resolves
to a non-public address and an event type not routed to notifications are refused."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.common.http.problems import NotFound, PreconditionFailed, Unprocessable
from apps.common.messaging.consumers import topic_matches
from apps.notifications.errors import WebhookEventTypeNotRouted, WebhookUrlRefused
from apps.notifications.models import WebhookEndpoint
from apps.notifications.signing import secret_generate
from apps.notifications.ssrf import UnsafeDestination, url_check
from apps.notifications.subscriptions import event_type_private


def webhook_url_validate(url: str) -> None:
    try:
        url_check(url)
    except UnsafeDestination as exc:
        raise WebhookUrlRefused(str(exc)) from exc


def webhook_event_types_validate(event_types: list[str]) -> list[str]:
    cleaned = sorted({str(value).strip() for value in event_types if str(value).strip()})
    if not cleaned:
        raise Unprocessable("Subscribe to at least one event type.")
    for event_type in cleaned:
        if event_type == "*":
            continue
        if event_type_private(event_type):
            raise WebhookEventTypeNotRouted(f"{event_type!r} carries a secret for one person: no webhook gets it.")
        if not any(topic_matches(pattern, event_type) for pattern in settings.NOTIFICATIONS_EVENT_BINDINGS):
            raise WebhookEventTypeNotRouted(
                f"{event_type!r} is not routed to notifications (bindings: {settings.NOTIFICATIONS_EVENT_BINDINGS}).")
    return cleaned


def _check_version(endpoint: WebhookEndpoint, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != endpoint.version:
        raise PreconditionFailed(f"The endpoint is at version {endpoint.version}.")


def _endpoint_locked(endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def webhook_endpoint_create(*, owner, url: str, event_types: list[str], description: str = "",
                            ) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint: returns it and its signing secret (shown to the caller once)."""
    webhook_url_validate(url)
    cleaned = webhook_event_types_validate(event_types)
    secret = secret_generate()
    endpoint = WebhookEndpoint.objects.create(url=url, event_types=cleaned, description=description, owner=owner,
                                              secret=secret)
    return endpoint, secret


def webhook_endpoint_update(*, endpoint_id: uuid.UUID, expected_version: int | None = None, url: str | None = None,
                            event_types: list[str] | None = None, description: str | None = None,
                            is_active: bool | None = None) -> WebhookEndpoint:
    if url is not None:
        webhook_url_validate(url)
    cleaned = webhook_event_types_validate(event_types) if event_types is not None else None
    with transaction.atomic():
        endpoint = _endpoint_locked(endpoint_id)
        _check_version(endpoint, expected_version)
        if url is not None:
            endpoint.url = url
        if cleaned is not None:
            endpoint.event_types = cleaned
        if description is not None:
            endpoint.description = description
        if is_active is not None:
            if is_active and not endpoint.is_active:  # re-enabled: start counting afresh
                endpoint.consecutive_failures, endpoint.failing_since = 0, None
                endpoint.disabled_at, endpoint.disabled_reason = None, ""
            endpoint.is_active = is_active
        endpoint.version += 1
        endpoint.save()
    return endpoint


def webhook_endpoint_rotate_secret(*, endpoint_id: uuid.UUID, expected_version: int | None = None,
                                   ) -> tuple[WebhookEndpoint, str]:
    """A new secret; the old one keeps signing (both signatures sent) for the grace period."""
    with transaction.atomic():
        endpoint = _endpoint_locked(endpoint_id)
        _check_version(endpoint, expected_version)
        secret = secret_generate()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + dt.timedelta(
            hours=settings.NOTIFICATIONS_WEBHOOK_SECRET_GRACE_HOURS)
        endpoint.secret = secret
        endpoint.version += 1
        endpoint.save()
    return endpoint, secret


def webhook_endpoint_delete(*, endpoint_id: uuid.UUID, expected_version: int | None = None) -> None:
    """Deliveries stay as history; those not yet sent die with "endpoint deleted"."""
    with transaction.atomic():
        endpoint = _endpoint_locked(endpoint_id)
        _check_version(endpoint, expected_version)
        endpoint.delete()
