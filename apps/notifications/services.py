"""Writes of apps.notifications: turning events into deliveries, delivering them, replaying
the dead ones, and managing webhook endpoints."""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import time
import uuid
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from apps.common.http.problems import NotFound, PreconditionFailed, Unprocessable
from apps.common.messaging.consumers import ReceivedEvent, topic_matches
from apps.common.messaging.inbox import inbox_purge as common_inbox_purge
from apps.common.observability.telemetry import continue_trace
from apps.notifications import states
from apps.notifications.channels import channel_send
from apps.notifications.dead_letters import dead_letters_remove
from apps.notifications.errors import DeliveryNotReplayable, WebhookEventTypeNotRouted, WebhookUrlRefused
from apps.notifications.models import Channel, Delivery, DeliveryAttempt, InboxEvent, WebhookEndpoint
from apps.notifications.outcomes import AttemptKind, AttemptOutcome, DeliveryFailed, SendResult
from apps.notifications.rendering import email_render, sms_render, template_context, webhook_render
from apps.notifications.signing import secret_generate
from apps.notifications.ssrf import UnsafeDestination, url_check
from apps.notifications.subscriptions import event_type_private, recipients, rules_for

logger = logging.getLogger(__name__)

S = Delivery.Status
ENDPOINT_DISABLED_EVENT = "notifications.webhook_endpoint_disabled"


# --- Events -> deliveries ---------------------------------------------------------------------

def event_notify(event: ReceivedEvent) -> None:
    """The notifications consumer's handler (inside its inbox transaction): one delivery per
    rule recipient and per subscribed active webhook endpoint, delivered after commit."""
    occurred_at = event.occurred_at.isoformat()
    context = template_context(event_type=event.type, event_id=str(event.id), occurred_at=occurred_at, data=event.data)
    created: list[int] = []
    for rule in rules_for(event.type):
        for recipient in recipients(rule, event.data):
            if rule.channel == Channel.EMAIL:
                payload = email_render(event.type, context)
            else:
                payload = sms_render(event.type, context)
            created += _delivery_new(event_id=event.id, event_type=event.type, channel=rule.channel,
                                     recipient=recipient, template=f"{rule.channel}/{event.type}",
                                     payload=payload, traceparent=event.traceparent)
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(is_active=True)
                 if endpoint.subscribes_to(event.type) and not event_type_private(event.type)]
    if endpoints:
        payload = webhook_render(event_type=event.type, occurred_at=occurred_at, data=event.data)
        for endpoint in endpoints:
            created += _delivery_new(event_id=event.id, event_type=event.type, channel=Channel.WEBHOOK,
                                     recipient=str(endpoint.id), endpoint=endpoint, payload=payload,
                                     traceparent=event.traceparent)
    if created:
        transaction.on_commit(lambda: deliveries_enqueue(created))


def _delivery_new(*, event_id: uuid.UUID, event_type: str, channel: str, recipient: str, payload: dict,
                  template: str = "", endpoint: WebhookEndpoint | None = None, traceparent: str = "") -> list[int]:
    """Create a delivery unless its key (event, channel, recipient) exists: [id] or []."""
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                event_id=event_id, event_type=event_type, channel=channel, recipient=recipient, endpoint=endpoint,
                template=template, payload=payload, traceparent=traceparent, next_attempt_at=timezone.now(),
            )
            states.delivery_created(delivery, reason="created from the event")
    except IntegrityError:
        logger.info("delivery %s/%s/%s exists: not created twice", event_id, channel, recipient)
        return []
    return [delivery.pk]


def deliveries_enqueue(delivery_ids: Iterable[int]) -> None:
    """One task per delivery. A failed enqueue is logged: deliveries_resume picks the row up."""
    from apps.notifications.tasks import deliver

    for delivery_id in delivery_ids:
        try:
            deliver.apply_async(args=[delivery_id], retry=True, retry_policy={"max_retries": 2})
        except Exception:
            logger.exception("could not enqueue delivery %s; the resume sweep will", delivery_id)


# --- Delivering -------------------------------------------------------------------------------

def retry_delay(attempt: int, retry_after: int | None = None) -> int:
    """Exponential backoff with jitter (between half and all of the ceiling), at least the
    receiver's Retry-After (capped), in whole seconds (RabbitMQ delayed delivery's unit)."""
    ceiling = min(settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS,
                  settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    # bandit B311: jitter spreads retries out; it guards nothing
    delay = random.uniform(ceiling / 2, ceiling)  # nosec B311
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.NOTIFICATIONS_RETRY_AFTER_MAX_SECONDS))
    return max(1, math.ceil(delay))


def delivery_deliver(*, delivery_id: int, claim: str, redelivered: bool = False) -> AttemptOutcome:
    """One attempt: claim the delivery, send it outside any transaction, record the result.

    The claim makes concurrent copies of the task wait instead of sending twice. A claim whose
    holder died (this very message redelivered by RabbitMQ, or a lease run out) is taken over:
    the receiver may then get the message a second time, with the same webhook-id, and
    dedupes it; no sender can avoid that after a crash in the middle of a request."""
    claimed = _claim(delivery_id=delivery_id, claim=claim, redelivered=redelivered)
    if isinstance(claimed, AttemptOutcome):
        return claimed
    delivery, attempt_id = claimed
    started = time.monotonic()
    result: SendResult | None = None
    failure: DeliveryFailed | None = None
    try:
        with continue_trace(delivery.traceparent, f"notify {delivery.channel}", delivery_id=delivery.pk,
                            event_type=delivery.event_type):
            result = channel_send(delivery)
    except DeliveryFailed as exc:
        failure = exc
    except Exception as exc:
        # A bug of ours, not the receiver's: retried like a transient failure, so it ends dead
        # (and replayable once fixed) instead of leaving the claim to expire over and over.
        logger.exception("delivery %s failed unexpectedly", delivery_id)
        failure = DeliveryFailed(f"unexpected error: {exc!r}", permanent=False)
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(delivery_id=delivery_id, claim=claim, attempt_id=attempt_id, result=result, failure=failure,
                   duration_ms=duration_ms)


def _claim(*, delivery_id: int, claim: str, redelivered: bool) -> tuple[Delivery, int] | AttemptOutcome:
    now = timezone.now()
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(of=("self",)).select_related("endpoint")
                    .filter(pk=delivery_id).first())
        if delivery is None:
            return AttemptOutcome(AttemptKind.SKIPPED, detail="no such delivery")
        if delivery.status in (S.DELIVERED, S.DEAD):
            return AttemptOutcome(AttemptKind.SKIPPED, detail=f"already {delivery.status}")
        if delivery.status == S.SENDING:
            lease_end = delivery.claimed_at + dt.timedelta(seconds=settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS)
            holder_died = (redelivered and delivery.claim_token == claim) or lease_end <= now
            if not holder_died:
                return AttemptOutcome(AttemptKind.BUSY, retry_in=max(1, math.ceil((lease_end - now).total_seconds())),
                                      detail="another attempt holds the claim")
            DeliveryAttempt.objects.filter(delivery=delivery, outcome=DeliveryAttempt.Outcome.IN_PROGRESS).update(
                outcome=DeliveryAttempt.Outcome.INTERRUPTED, finished_at=now,
                error="the worker died mid-attempt; whether the receiver got it is unknown")
            states.delivery_transition(delivery, S.FAILED, reason="attempt interrupted (worker lost)")
        delivery.attempts += 1
        delivery.claim_token, delivery.claimed_at, delivery.next_attempt_at = claim, now, None
        states.delivery_transition(delivery, S.SENDING, reason=f"attempt {delivery.attempts}",
                                   update_fields=("attempts", "claim_token", "claimed_at", "next_attempt_at"))
        number = (delivery.attempt_rows.aggregate(last=Max("number"))["last"] or 0) + 1
        attempt = DeliveryAttempt.objects.create(delivery=delivery, number=number, started_at=now)
    return delivery, attempt.pk


def _record(*, delivery_id: int, claim: str, attempt_id: int, result: SendResult | None,
            failure: DeliveryFailed | None, duration_ms: int) -> AttemptOutcome:
    now = timezone.now()
    Outcome = DeliveryAttempt.Outcome
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        exhausted = failure is not None and (
            failure.permanent or delivery.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS)
        if failure is None:
            outcome, status_code, excerpt, error = Outcome.SUCCESS, result.status_code, result.excerpt, ""
        else:
            outcome = Outcome.PERMANENT if failure.permanent else Outcome.TRANSIENT
            status_code, excerpt, error = failure.status_code, failure.excerpt, failure.error
        DeliveryAttempt.objects.filter(pk=attempt_id).update(
            finished_at=now, duration_ms=duration_ms, outcome=outcome, status_code=status_code,
            error=error[:4000], response_excerpt=(excerpt or "")[:500])
        if delivery.status != S.SENDING or delivery.claim_token != claim:
            # We were presumed dead and another attempt took over: the status is its to set.
            return AttemptOutcome(AttemptKind.SKIPPED, detail="the claim was taken over")
        delivery.last_status_code, delivery.last_error = status_code, error[:4000]
        fields = ("last_status_code", "last_error")
        if failure is None:
            delivery.delivered_at = now
            states.delivery_transition(delivery, S.DELIVERED, reason=f"attempt {delivery.attempts} succeeded",
                                       update_fields=(*fields, "delivered_at"))
            _endpoint_succeeded(delivery)
            return AttemptOutcome(AttemptKind.DELIVERED)
        _endpoint_failed(delivery, error=error, now=now)
        if exhausted:
            delivery.dead_at = now
            why = "permanent failure" if failure.permanent else f"{delivery.attempts} attempts failed"
            states.delivery_transition(delivery, S.DEAD, reason=f"{why}: {error}", update_fields=(*fields, "dead_at"))
            return AttemptOutcome(AttemptKind.DEAD, detail=f"{why}: {error}")
        delay = retry_delay(delivery.attempts, failure.retry_after)
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
        states.delivery_transition(delivery, S.FAILED, reason=f"{error}; retry in {delay}s",
                                   update_fields=(*fields, "next_attempt_at"))
        return AttemptOutcome(AttemptKind.RETRY, retry_in=delay, detail=error)


def _endpoint_succeeded(delivery: Delivery) -> None:
    if delivery.endpoint_id is None:
        return
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).exclude(consecutive_failures=0, failing_since=None).update(
        consecutive_failures=0, failing_since=None)


def _endpoint_failed(delivery: Delivery, *, error: str, now: dt.datetime) -> None:
    """Count a failed attempt; an endpoint failing long and often enough is disabled and its
    owner told by email (the receiver cannot be told: it is the thing that is down)."""
    if delivery.endpoint_id is None:
        return
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("owner").get(pk=delivery.endpoint_id)
    endpoint.consecutive_failures += 1
    endpoint.failing_since = endpoint.failing_since or now
    fields = ["consecutive_failures", "failing_since", "updated_at"]
    sustained = now - endpoint.failing_since >= dt.timedelta(hours=settings.NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_HOURS)
    if (endpoint.is_active and sustained
            and endpoint.consecutive_failures >= settings.NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_FAILURES):
        endpoint.is_active = False
        endpoint.disabled_at = now
        endpoint.disabled_reason = f"{endpoint.consecutive_failures} failed attempts in a row: {error}"[:300]
        fields += ["is_active", "disabled_at", "disabled_reason"]
        _owner_notify_disabled(endpoint, error=error)
    endpoint.save(update_fields=fields)


def _owner_notify_disabled(endpoint: WebhookEndpoint, *, error: str) -> None:
    if not endpoint.owner.email:
        logger.warning("webhook endpoint %s disabled; its owner has no email address", endpoint.pk)
        return
    data = {"endpoint_id": str(endpoint.pk), "url": endpoint.url,
            "consecutive_failures": endpoint.consecutive_failures,
            "failing_since": endpoint.failing_since.isoformat(), "last_error": error[:300]}
    notice_id = uuid.uuid4()
    context = template_context(event_type=ENDPOINT_DISABLED_EVENT, event_id=str(notice_id),
                               occurred_at=timezone.now().isoformat(), data=data)
    created = _delivery_new(event_id=notice_id, event_type=ENDPOINT_DISABLED_EVENT, channel=Channel.EMAIL,
                            recipient=endpoint.owner.email.lower(), template=f"email/{ENDPOINT_DISABLED_EVENT}",
                            payload=email_render(ENDPOINT_DISABLED_EVENT, context))
    transaction.on_commit(lambda: deliveries_enqueue(created))


def deliveries_resume(*, limit: int = 500) -> int:
    """Re-enqueue deliveries whose task went missing: due long ago (a lost publish, a broker
    outage at enqueue time) or claimed by a worker silent past its lease. With tasks run
    eagerly there is no delayed message to wait for, so failed ones are retried when due."""
    now = timezone.now()
    grace_seconds = 0 if current_app.conf.task_always_eager else settings.NOTIFICATIONS_RESUME_GRACE_SECONDS
    grace = dt.timedelta(seconds=grace_seconds)
    lease = dt.timedelta(seconds=settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS)
    ids = list(
        Delivery.objects.filter(
            Q(status__in=states.CLAIMABLE, next_attempt_at__lte=now - grace)
            | Q(status=S.SENDING, claimed_at__lte=now - lease - grace)
        ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    deliveries_enqueue(ids)
    return len(ids)


def inbox_purge() -> int:
    """Applied events are remembered long past any redelivery, then forgotten."""
    if settings.EVENT_INBOX_RETENTION_DAYS <= 0:
        return 0
    return common_inbox_purge(model=InboxEvent, using="default",
                              older_than=dt.timedelta(days=settings.EVENT_INBOX_RETENTION_DAYS))


# --- Replay -----------------------------------------------------------------------------------

def delivery_replay(*, delivery_id: int, actor=None, drain: bool = True) -> Delivery:
    """Give a dead delivery a new cycle of attempts (its attempt history stays)."""
    if drain:
        _drain(delivery_ids={delivery_id})
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound("No such delivery.")
        if delivery.status != S.DEAD:
            raise DeliveryNotReplayable(f"The delivery is {delivery.status}, not dead.")
        delivery.attempts, delivery.claim_token, delivery.claimed_at = 0, "", None
        delivery.next_attempt_at, delivery.dead_at = timezone.now(), None
        who = f" by {actor}" if actor is not None else ""
        states.delivery_transition(delivery, S.PENDING, reason=f"replayed{who}", actor=actor,
                                   update_fields=("attempts", "claim_token", "claimed_at", "next_attempt_at",
                                                  "dead_at"))
        transaction.on_commit(lambda: deliveries_enqueue([delivery_id]))
    return delivery


def deliveries_replay_dead(*, delivery_ids: Iterable[int] | None = None, event_type: str | None = None,
                           channel: str | None = None, actor=None) -> int:
    """Replay dead deliveries (all, or those selected) and clear their dead letters."""
    dead = Delivery.objects.filter(status=S.DEAD)
    selected = delivery_ids is not None or event_type or channel
    if delivery_ids is not None:
        dead = dead.filter(pk__in=list(delivery_ids))
    if event_type:
        dead = dead.filter(event_type=event_type)
    if channel:
        dead = dead.filter(channel=channel)
    ids = list(dead.values_list("pk", flat=True))
    # Everything when nothing is selected: messages of deliveries replayed before are stale too.
    _drain(delivery_ids=set(ids) if selected else None)
    replayed = 0
    for delivery_id in ids:
        try:
            delivery_replay(delivery_id=delivery_id, actor=actor, drain=False)
        except DeliveryNotReplayable:
            continue  # replayed meanwhile by someone else
        replayed += 1
    return replayed


def _drain(*, delivery_ids: set[int] | None) -> None:
    try:
        dead_letters_remove(delivery_ids=delivery_ids)
    except Exception:
        # The rows are the source of truth: a replay must work while the broker is away.
        logger.exception("could not clear notifications.dead; its depth overstates until the next replay")


# --- Webhook endpoints ------------------------------------------------------------------------

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
