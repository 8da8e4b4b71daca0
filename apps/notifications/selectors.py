"""Reads of apps.notifications."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from apps.common.http.problems import NotFound
from apps.notifications.dead_letters import dead_letter_depth
from apps.notifications.models import Delivery, WebhookEndpoint


def delivery_list(*, status: str | None = None, channel: str | None = None,
                  event_type: str | None = None) -> QuerySet[Delivery]:
    deliveries = Delivery.objects.select_related("endpoint")
    if status:
        deliveries = deliveries.filter(status=status)
    if channel:
        deliveries = deliveries.filter(channel=channel)
    if event_type:
        deliveries = deliveries.filter(event_type=event_type)
    return deliveries


def delivery_get(*, delivery_id: int) -> Delivery:
    delivery = (Delivery.objects.select_related("endpoint").prefetch_related("attempt_rows", "transitions")
                .filter(pk=delivery_id).first())
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.select_related("owner")


def webhook_endpoint_get(*, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_related("owner").filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def dead_letters_summary() -> dict:
    """What staff watch: messages waiting in notifications.dead and dead rows."""
    return {
        "queue": "notifications.dead",
        "depth": dead_letter_depth(),
        "dead_deliveries": Delivery.objects.filter(status=Delivery.Status.DEAD).count(),
    }
