"""Incoming processor webhooks: verified (apps.payments.webhooks), recorded once per event id,
and applied to the operation they name."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.common.http.parsers import json_loads
from apps.payments.models import PaymentTransaction, WebhookEvent
from apps.payments.providers import provider_class
from apps.payments.providers.base import InvalidWebhook
from apps.payments.services.resolution import TX_OUTCOME, operation_resolve
from apps.payments.webhooks import WebhookInvalid, webhook_signature_verify

logger = logging.getLogger(__name__)


def webhook_receive(*, provider_name: str, body: bytes, timestamp: str | None,
                    signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify, deduplicate and apply a processor's webhook: (its record, first delivery?).
    Unknown providers raise UnknownProvider."""
    cls = provider_class(provider_name)
    webhook_signature_verify(secret=settings.PAYMENTS_WEBHOOK_SECRETS.get(provider_name, ""), timestamp=timestamp,
                             signature=signature, body=body,
                             tolerance_seconds=settings.PAYMENTS_WEBHOOK_TOLERANCE_SECONDS)
    try:
        notice = cls.webhook_notice(json_loads(body))
    except (ValueError, InvalidWebhook) as exc:
        raise WebhookInvalid(str(exc)[:200]) from exc
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    provider=provider_name, event_id=notice.event_id[:255], event_type=notice.event_type[:60],
                    payload=notice.result.raw, result=WebhookEvent.Result.UNMATCHED, received_at=timezone.now())
        except IntegrityError:
            return WebhookEvent.objects.get(provider=provider_name, event_id=notice.event_id[:255]), False
        tx = PaymentTransaction.objects.filter(provider_key=notice.idempotency_key,
                                               payment__provider=provider_name).first()
        if tx is not None:
            tx, applied = operation_resolve(tx.id, notice.result, source="webhook")
            if applied:
                event.result = WebhookEvent.Result.APPLIED
            elif tx.outcome == TX_OUTCOME[notice.result.outcome]:
                event.result = WebhookEvent.Result.ALREADY_KNOWN
            else:
                event.result = WebhookEvent.Result.CONFLICT
                logger.error("payments: webhook %s says %s but %s %s was recorded %s", notice.event_id,
                             notice.result.outcome, tx.operation, tx.id, tx.outcome)
            event.transaction = tx
            event.save(update_fields=["result", "transaction"])
    return event, True
