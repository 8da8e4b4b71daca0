import uuid

from django.db import models


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change that caused it.

    The relay publishes pending rows to RabbitMQ and marks them published; published rows stay
    as the event archive (read models are rebuilt from it) until the retention purges them."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PUBLISHED = "published"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # the event id
    event_type = models.CharField(max_length=100, db_index=True)
    version = models.PositiveSmallIntegerField(default=1)
    aggregate_id = models.CharField(max_length=64, db_index=True)
    occurred_at = models.DateTimeField()
    data = models.JSONField()
    traceparent = models.CharField(max_length=55, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["status", "occurred_at"], name="outbox_pending_idx")]
        # Operations' read of the whole platform's figures (/metrics), outbox backlog included.
        permissions = [("view_metrics", "Can read the Prometheus metrics")]

    def __str__(self):
        return f"{self.event_type} {self.aggregate_id} ({self.status})"

    def envelope(self) -> dict:
        """The message as published: the wire contract of every event."""
        return {
            "id": str(self.id),
            "type": self.event_type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "aggregate_id": self.aggregate_id,
            "data": self.data,
            "traceparent": self.traceparent,
        }


class AbstractInboxEvent(models.Model):
    """A consumer's record that it applied an event, in the consumer's own database.

    Written in the same transaction as the event's effects (apps.common.messaging.inbox), unique on
    (consumer, event_id): a redelivered or republished event is applied once. Each consumer
    declares a concrete subclass in its own app, so the inbox lives on that app's alias.
    Portable to SQL Server and MongoDB: explicit UUID key, no database defaults."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consumer = models.CharField(max_length=100)
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    applied_at = models.DateTimeField(db_index=True)
    # How many more times the event arrived after it was applied (redeliveries, republishes).
    # Not PositiveIntegerField: on SQL Server that would be a CHECK constraint.
    redeliveries = models.IntegerField(default=0)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event_id"], name="%(app_label)s_%(class)s_consumer_event"),
        ]

    def __str__(self):
        return f"{self.consumer} applied {self.event_type} {self.event_id}"


class IdempotencyKey(models.Model):
    """One row per (caller, route, key): the first request's fingerprint and, once it has run,
    its stored response, which every retry with the same key gets back."""

    class Status(models.TextChoices):
        IN_FLIGHT = "in_flight"
        COMPLETED = "completed"

    scope = models.CharField(max_length=200)  # caller and route
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the canonical request body
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IN_FLIGHT)
    locked_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content = models.BinaryField(null=True, blank=True)  # the body's bytes, as sent
    response_headers = models.JSONField(default=dict, blank=True)
    # Rows stored before response_content have their body here as JSON (keys re-sorted by jsonb);
    # nothing writes it any more: drop it once those rows are past IDEMPOTENCY_KEY_RETENTION_HOURS.
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_uniq")]

    def __str__(self):
        return f"{self.scope} {self.key} ({self.status})"


class RejectedEvent(models.Model):
    """An event that a consumer could not apply (it broke its schema, or its handler kept failing
    until the event was dead-lettered): kept with the reason so staff see it, and replayable
    through the consumer's inbox once the cause is fixed (apps.common.messaging.rejections)."""

    class Status(models.TextChoices):
        REJECTED = "rejected"
        REPLAYED = "replayed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consumer = models.CharField(max_length=100)
    event_id = models.UUIDField(null=True, blank=True)  # none when the envelope had no readable id
    event_type = models.CharField(max_length=100, blank=True, default="")
    envelope = models.JSONField()  # as received: what a replay applies
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REJECTED)
    rejections = models.IntegerField(default=1)  # how often this consumer rejected it
    first_rejected_at = models.DateTimeField()
    last_rejected_at = models.DateTimeField(db_index=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_rejected_at"]
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event_id"], name="rejected_event_consumer_event"),
        ]
        indexes = [models.Index(fields=["status", "consumer"], name="rejected_event_status_idx")]
        permissions = [("replay_rejectedevent", "Can replay a rejected event")]

    def __str__(self):
        return f"{self.consumer} rejected {self.event_type or 'an event'} {self.event_id or ''}".strip()
