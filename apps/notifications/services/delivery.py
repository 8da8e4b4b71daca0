"""Delivering: one attempt at a time under a claim (a lease on the delivery), sent outside any
transaction, its result recorded with backoff and jitter or the delivery dead; endpoints that
keep failing are disabled and their owner told; deliveries whose task went missing resumed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import random
import time
import uuid

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from apps.common.observability.telemetry import continue_trace
from apps.notifications import states
from apps.notifications.channels import channel_send
from apps.notifications.models import Channel, Delivery, DeliveryAttempt, DeliveryTransition, WebhookEndpoint
from apps.notifications.outcomes import AttemptKind, AttemptOutcome, DeliveryFailed, SendResult
from apps.notifications.rendering import email_render, template_context
from apps.notifications.services.fanout import deliveries_create, deliveries_enqueue

logger = logging.getLogger(__name__)

S = Delivery.Status
ENDPOINT_DISABLED_EVENT = "notifications.webhook_endpoint_disabled"


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


@dataclasses.dataclass(frozen=True)
class _Claimed:
    delivery: Delivery
    number: int  # the attempt's, among the delivery's attempt rows
    audit: DeliveryTransition  # the claim's audit row, written with the attempt's outcome


def delivery_deliver(*, delivery_id: int, claim: str, redelivered: bool = False) -> AttemptOutcome:
    """One attempt: claim the delivery, send it outside any transaction, record the result.

    The claim makes concurrent copies of the task wait instead of sending twice. A claim whose
    holder died (this very message redelivered by RabbitMQ, or a lease run out) is taken over:
    the receiver may then get the message a second time, with the same webhook-id, and
    dedupes it; no sender can avoid that after a crash in the middle of a request."""
    claimed = _claim(delivery_id=delivery_id, claim=claim, redelivered=redelivered)
    if isinstance(claimed, AttemptOutcome):
        return claimed
    delivery = claimed.delivery
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
    return _record(claimed, claim=claim, result=result, failure=failure, duration_ms=duration_ms)


def _delivery_read(delivery_id: int, *, lock: bool = False) -> Delivery | None:
    """The delivery with its endpoint, and the number of its last attempt row."""
    last_number = DeliveryAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-number").values("number")[:1]
    deliveries = Delivery.objects.select_related("endpoint").annotate(last_attempt=Subquery(last_number))
    if lock:
        deliveries = deliveries.select_for_update(of=("self",))
    found = list(deliveries.filter(pk=delivery_id)[:1])
    return found[0] if found else None


def _claim(*, delivery_id: int, claim: str, redelivered: bool) -> _Claimed | AttemptOutcome:
    """Take the delivery for this attempt, or say why not: read without a lock, then one UPDATE
    conditional on what was read (two statements, no transaction). An attempt's row and its
    claim's audit row are written when it ends (_record)."""
    for _look in (1, 2):  # changed between the read and the claim: look once more
        now = timezone.now()
        delivery = _delivery_read(delivery_id)
        if delivery is None:
            return AttemptOutcome(AttemptKind.SKIPPED, detail="no such delivery")
        if delivery.status in (S.DELIVERED, S.DEAD):
            return AttemptOutcome(AttemptKind.SKIPPED, detail=f"already {delivery.status}")
        if delivery.status == S.SENDING:
            if busy := _holder_alive(delivery, claim=claim, redelivered=redelivered, now=now):
                return busy
            return _take_over(delivery_id=delivery_id, claim=claim, redelivered=redelivered)
        audit = states.delivery_claim(delivery, claim=claim, now=now)
        if audit is not None:
            return _Claimed(delivery, (delivery.last_attempt or 0) + 1, audit)
    return AttemptOutcome(AttemptKind.BUSY, retry_in=1, detail="another attempt changed the delivery meanwhile")


def _holder_alive(delivery: Delivery, *, claim: str, redelivered: bool, now: dt.datetime) -> AttemptOutcome | None:
    """BUSY while the attempt holding the claim may still be running; None once it is presumed
    dead (this very message redelivered by RabbitMQ, or its lease run out)."""
    lease_end = delivery.claimed_at + dt.timedelta(seconds=settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS)
    if (redelivered and delivery.claim_token == claim) or lease_end <= now:
        return None
    return AttemptOutcome(AttemptKind.BUSY, retry_in=max(1, math.ceil((lease_end - now).total_seconds())),
                          detail="another attempt holds the claim")


def _take_over(*, delivery_id: int, claim: str, redelivered: bool) -> _Claimed | AttemptOutcome:
    """Claim a delivery whose holder is presumed dead, under its lock. The holder's attempt ends
    here: its claim's audit row and its attempt's row (interrupted) are written, unless it wrote
    the attempt meanwhile; a holder of the previous release wrote both as its attempt began."""
    now = timezone.now()
    with transaction.atomic():
        delivery = _delivery_read(delivery_id, lock=True)
        if delivery is None:
            return AttemptOutcome(AttemptKind.SKIPPED, detail="no such delivery")
        if delivery.status in (S.DELIVERED, S.DEAD):
            return AttemptOutcome(AttemptKind.SKIPPED, detail=f"already {delivery.status}")
        number = (delivery.last_attempt or 0) + 1
        if delivery.status == S.SENDING:
            if busy := _holder_alive(delivery, claim=claim, redelivered=redelivered, now=now):
                return busy
            lost = "the worker died mid-attempt; whether the receiver got it is unknown"
            Outcome = DeliveryAttempt.Outcome
            if not DeliveryAttempt.objects.filter(delivery=delivery, outcome=Outcome.IN_PROGRESS).update(
                    outcome=Outcome.INTERRUPTED, finished_at=now, error=lost):
                states.delivery_claim_audit(delivery).save()
                DeliveryAttempt.objects.bulk_create([DeliveryAttempt(
                    delivery=delivery, number=number, started_at=delivery.claimed_at, finished_at=now,
                    outcome=Outcome.INTERRUPTED, error=lost)], ignore_conflicts=True)
                number += 1
            states.delivery_transition(delivery, S.FAILED, reason="attempt interrupted (worker lost)")
        audit = states.delivery_claim(delivery, claim=claim, now=now)
    if audit is None:  # not under the lock we held; kept for safety
        return AttemptOutcome(AttemptKind.BUSY, retry_in=1, detail="another attempt changed the delivery meanwhile")
    return _Claimed(delivery, number, audit)


def _record(claimed: _Claimed, *, claim: str, result: SendResult | None, failure: DeliveryFailed | None,
            duration_ms: int) -> AttemptOutcome:
    """The attempt's row, and the delivery's next status if this attempt still holds the claim.

    No lock is taken first: the status changes in one UPDATE conditional on the claim, and while
    the claim is ours nobody else changes the delivery. That UPDATE comes first, so this
    transaction never waits for the delivery while holding the attempt's row (a takeover holds
    the delivery and writes that row)."""
    delivery, number = claimed.delivery, claimed.number
    now = timezone.now()
    Outcome = DeliveryAttempt.Outcome
    with transaction.atomic():
        exhausted = failure is not None and (
            failure.permanent or delivery.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS)
        if failure is None:
            outcome, status_code, excerpt, error = Outcome.SUCCESS, result.status_code, result.excerpt, ""
        else:
            outcome = Outcome.PERMANENT if failure.permanent else Outcome.TRANSIENT
            status_code, excerpt, error = failure.status_code, failure.excerpt, failure.error
        delivery.last_status_code, delivery.last_error = status_code, error[:4000]
        fields = ("last_status_code", "last_error")
        if failure is None:
            delivery.delivered_at = now
            moved = states.delivery_transition_claimed(delivery, S.DELIVERED, claim=claim, claimed=claimed.audit,
                                                       reason=f"attempt {delivery.attempts} succeeded",
                                                       update_fields=(*fields, "delivered_at"))
        elif exhausted:
            delivery.dead_at = now
            why = "permanent failure" if failure.permanent else f"{delivery.attempts} attempts failed"
            moved = states.delivery_transition_claimed(delivery, S.DEAD, claim=claim, claimed=claimed.audit,
                                                       reason=f"{why}: {error}", update_fields=(*fields, "dead_at"))
        else:
            delay = retry_delay(delivery.attempts, failure.retry_after)
            delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
            moved = states.delivery_transition_claimed(delivery, S.FAILED, claim=claim, claimed=claimed.audit,
                                                       reason=f"{error}; retry in {delay}s",
                                                       update_fields=(*fields, "next_attempt_at"))
        # Taken over or not, the attempt shows what the receiver answered it (replacing the
        # "interrupted" a takeover wrote for it).
        DeliveryAttempt.objects.bulk_create(
            [DeliveryAttempt(delivery=delivery, number=number, started_at=delivery.claimed_at, finished_at=now,
                             duration_ms=duration_ms, outcome=outcome, status_code=status_code,
                             error=error[:4000], response_excerpt=(excerpt or "")[:500])],
            update_conflicts=True, unique_fields=["delivery", "number"],
            update_fields=["finished_at", "duration_ms", "outcome", "status_code", "error", "response_excerpt"])
        if not moved:
            # Presumed dead, we lost the claim to another attempt: the status is its to set.
            return AttemptOutcome(AttemptKind.SKIPPED, detail="the claim was taken over")
        if failure is None:
            _endpoint_succeeded(delivery)
            return AttemptOutcome(AttemptKind.DELIVERED)
        _endpoint_failed(delivery, error=error, now=now)
        if exhausted:
            return AttemptOutcome(AttemptKind.DEAD, detail=f"{why}: {error}")
        return AttemptOutcome(AttemptKind.RETRY, retry_in=delay, detail=error)


def _endpoint_succeeded(delivery: Delivery) -> None:
    """Reset the endpoint's failure count; no statement when it was healthy as the attempt began
    (a failure of another delivery recorded meanwhile then stays counted until the next success)."""
    endpoint = delivery.endpoint
    if endpoint is None or (endpoint.consecutive_failures == 0 and endpoint.failing_since is None):
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
    notice = Delivery(event_id=notice_id, event_type=ENDPOINT_DISABLED_EVENT, channel=Channel.EMAIL,
                      recipient=endpoint.owner.email.lower(), template=f"email/{ENDPOINT_DISABLED_EVENT}",
                      payload=email_render(ENDPOINT_DISABLED_EVENT, context))
    created = deliveries_create([notice], reason="created from the event")
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
