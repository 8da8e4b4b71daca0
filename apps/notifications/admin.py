"""Staff see deliveries (filter by status, channel, event type), the dead letters with replay,
and the webhook endpoints. Statuses never change by editing: replay goes through the service."""

from django import forms
from django.contrib import admin, messages

from apps.common.admin import ReadOnlyInline
from apps.common.http.problems import ApplicationError
from apps.notifications import selectors
from apps.notifications.models import DeadDelivery, Delivery, DeliveryAttempt, DeliveryTransition, WebhookEndpoint
from apps.notifications.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_event_types_validate,
    webhook_url_validate,
)
from apps.notifications.services.replay import deliveries_replay_dead
from apps.notifications.subscriptions import event_type_private


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = readonly_fields = ["number", "started_at", "duration_ms", "outcome", "status_code", "error"]


class DeliveryTransitionInline(ReadOnlyInline):
    model = DeliveryTransition
    verbose_name_plural = "status history"
    fields = readonly_fields = ["created_at", "from_status", "to_status", "reason", "actor"]


@admin.action(description="Replay the selected dead deliveries", permissions=["replay"])
def replay_dead(modeladmin, request, queryset):
    ids = list(queryset.filter(status=Delivery.Status.DEAD).values_list("pk", flat=True))
    replayed = deliveries_replay_dead(delivery_ids=ids, actor=request.user)
    skipped = queryset.count() - replayed
    modeladmin.message_user(request, f"Replayed {replayed} dead deliveries."
                            + (f" {skipped} selected were not dead and were left alone." if skipped else ""),
                            messages.SUCCESS if replayed else messages.WARNING)


class _DeliveryAdminBase(admin.ModelAdmin):
    list_display = ["id", "event_type", "channel", "recipient", "status", "attempts", "last_status_code",
                    "updated_at"]
    list_filter = ["status", "channel", "event_type"]
    search_fields = ["recipient", "=event_id"]
    date_hierarchy = "created_at"
    readonly_fields = ["event_id", "event_type", "channel", "recipient", "endpoint", "template", "content", "status",
                       "attempts", "next_attempt_at", "claimed_at", "last_status_code", "last_error", "delivered_at",
                       "dead_at", "created_at", "updated_at"]
    exclude = ["claim_token", "traceparent", "payload"]  # shown (or withheld) by `content`
    inlines = [DeliveryAttemptInline, DeliveryTransitionInline]
    actions = [replay_dead]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="payload")
    def content(self, obj):
        # A verification or reset email holds a live link for its recipient alone: staff who may
        # read deliveries must not be able to use it.
        if event_type_private(obj.event_type):
            return "(withheld: this message carries a one-time link meant for its recipient only)"
        return obj.payload

    def has_replay_permission(self, request):
        return request.user.has_perm("notifications.replay_delivery")

    def changelist_view(self, request, extra_context=None):
        summary = selectors.dead_letters_summary()
        depth = "unknown (no broker)" if summary["depth"] is None else summary["depth"]
        self.message_user(request, f"Dead letters: {depth} in {summary['queue']}, "
                                   f"{summary['dead_deliveries']} dead deliveries.", messages.INFO)
        return super().changelist_view(request, extra_context)


@admin.register(Delivery)
class DeliveryAdmin(_DeliveryAdminBase):
    pass


@admin.register(DeadDelivery)
class DeadDeliveryAdmin(_DeliveryAdminBase):
    list_filter = ["channel", "event_type"]
    list_display = ["id", "event_type", "channel", "recipient", "attempts", "last_status_code", "last_error", "dead_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=Delivery.Status.DEAD)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    event_types = forms.CharField(help_text="Comma-separated event types, or * for every routed one.")

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "owner", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["event_types"] = ", ".join(self.instance.event_types)

    def clean_url(self):
        try:
            webhook_url_validate(self.cleaned_data["url"])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc
        return self.cleaned_data["url"]

    def clean_event_types(self):
        values = [value.strip() for value in self.cleaned_data["event_types"].split(",") if value.strip()]
        try:
            return webhook_event_types_validate(values)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "owner", "is_active", "consecutive_failures", "failing_since", "disabled_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description", "owner__username"]
    readonly_fields = ["consecutive_failures", "failing_since", "disabled_at", "disabled_reason",
                       "previous_secret_expires_at", "version", "created_at", "updated_at"]

    # One named permission for every write, as in the API: the model's add/change/delete grant nothing.
    def has_add_permission(self, request):
        return request.user.has_perm("notifications.manage_webhooks")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("notifications.manage_webhooks")

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("notifications.manage_webhooks")

    def save_model(self, request, obj, form, change):
        """Through the services, so the secret is generated and shown once."""
        data = form.cleaned_data
        if change:
            webhook_endpoint_update(endpoint_id=obj.pk, url=data["url"], event_types=data["event_types"],
                                    description=data["description"], is_active=data["is_active"])
            return
        endpoint, secret = webhook_endpoint_create(owner=data["owner"], url=data["url"],
                                                   event_types=data["event_types"],
                                                   description=data["description"])
        obj.pk = endpoint.pk
        self.message_user(request, f"Signing secret (shown once, store it now): {secret}", messages.WARNING)

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint_id=obj.pk)
