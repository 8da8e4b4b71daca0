"""Notifications: one Delivery per (event, channel, recipient), its attempts and its status
history; the webhook endpoints staff register; the inbox of events this module applied."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.common.models import AbstractInboxEvent


class InboxEvent(AbstractInboxEvent):
    """Events the notifications consumer applied (apps.common.messaging.inbox)."""


class Channel(models.TextChoices):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class WebhookEndpoint(models.Model):
    """A URL staff registered to receive signed events (Standard Webhooks)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    event_types = models.JSONField(default=list)  # exact event types, or "*" for every routed one
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="webhook_endpoints")
    # whsec_<base64 key>. Needed in clear to sign; shown once through the API, never listed.
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("manage_webhooks", "Can register, change, remove webhook endpoints and rotate secrets")]

    def __str__(self):
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class Delivery(models.Model):
    """One notification to one recipient on one channel for one event; a task delivers it.
    Status changes only through apps.notifications.states (each one writes a transition row)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"  # the last attempt failed; another is scheduled
        DEAD = "dead"  # given up: permanent failure or attempts exhausted (replay to retry)

    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=320)  # email address, phone number, or endpoint id
    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="deliveries")
    template = models.CharField(max_length=200, blank=True, default="")
    payload = models.JSONField()  # rendered content, frozen at creation: every attempt sends the same
    traceparent = models.CharField(max_length=55, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)  # in the current cycle (a replay restarts it)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=100, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event_id", "channel", "recipient"],
                                    name="delivery_event_channel_recipient"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_due_idx"),
            models.Index(fields=["event_type", "status"], name="delivery_type_status_idx"),
        ]
        permissions = [("replay_delivery", "Can replay dead deliveries")]

    def __str__(self):
        return f"{self.event_type} {self.channel} -> {self.recipient} ({self.status})"


class DeadDelivery(Delivery):
    """The dead letters, as staff see them in the admin (replayable)."""

    class Meta:
        proxy = True
        verbose_name = "dead letter"
        verbose_name_plural = "dead letters"


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress"
        SUCCESS = "success"
        TRANSIENT = "transient"  # retried
        PERMANENT = "permanent"  # not retried
        INTERRUPTED = "interrupted"  # the worker died mid-attempt; the result is unknown

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    response_excerpt = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="delivery_attempt_number")]

    def __str__(self):
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.outcome}"


class DeliveryTransition(models.Model):
    """The audit trail of a delivery's status."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=10, blank=True, default="")  # "" at creation
    to_status = models.CharField(max_length=10)
    reason = models.CharField(max_length=500, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # When the transition happened: a claim's row is written when its attempt ends (apps.notifications.states).
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status}"
