from rest_framework import serializers

from apps.notifications.models import Channel, Delivery, DeliveryAttempt, DeliveryTransition, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_id", read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "owner", "consecutive_failures",
                  "failing_since", "disabled_at", "disabled_reason", "previous_secret_expires_at", "version",
                  "created_at", "updated_at"]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """Only in the answers to create and rotate: the secret is never shown again."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    event_types = serializers.ListField(child=serializers.CharField(max_length=100), min_length=1, max_length=100)
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000, required=False)
    event_types = serializers.ListField(child=serializers.CharField(max_length=100), min_length=1, max_length=100,
                                        required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "finished_at", "duration_ms", "outcome", "status_code", "error",
                  "response_excerpt"]


class DeliveryTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", read_only=True, allow_null=True)

    class Meta:
        model = DeliveryTransition
        fields = ["from_status", "to_status", "reason", "actor", "created_at"]


class DeliverySerializer(serializers.ModelSerializer):
    endpoint = serializers.UUIDField(source="endpoint_id", read_only=True, allow_null=True)

    class Meta:
        model = Delivery
        fields = ["id", "event_id", "event_type", "channel", "recipient", "endpoint", "status", "attempts",
                  "next_attempt_at", "last_status_code", "last_error", "delivered_at", "dead_at", "created_at",
                  "updated_at"]


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_history = DeliveryAttemptSerializer(source="attempt_rows", many=True, read_only=True)
    transitions = DeliveryTransitionSerializer(many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "attempt_history", "transitions"]


class DeliveryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Delivery.Status.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    event_type = serializers.CharField(max_length=100, required=False)


class ReplayDeadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000)
    event_type = serializers.CharField(max_length=100, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)


class ReplayResultSerializer(serializers.Serializer):
    replayed = serializers.IntegerField()


class DeadLettersSerializer(serializers.Serializer):
    queue = serializers.CharField()
    depth = serializers.IntegerField(allow_null=True, help_text="Messages in the queue; null without a broker.")
    dead_deliveries = serializers.IntegerField()
