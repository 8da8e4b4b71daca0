from django.contrib import admin, messages

from apps.common.messaging.replay import ReplayOutcome, rejected_events_replay
from apps.common.models import RejectedEvent


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For rows that only services write (audit logs, projections, payments): staff look, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RejectedEvent)
class RejectedEventAdmin(ReadOnlyModelAdmin):
    """Events a consumer could not apply, with the reason; replayed once the cause is fixed."""

    list_display = ["last_rejected_at", "consumer", "event_type", "event_id", "status", "rejections", "short_reason"]
    list_filter = ["status", "consumer", "event_type"]
    search_fields = ["=event_id", "event_type", "reason"]
    readonly_fields = ["consumer", "event_id", "event_type", "status", "reason", "rejections", "first_rejected_at",
                       "last_rejected_at", "replayed_at", "envelope"]
    actions = ["replay"]

    @admin.display(description="reason")
    def short_reason(self, obj):
        return obj.reason if len(obj.reason) <= 120 else obj.reason[:117] + "..."

    def has_replay_permission(self, request):
        return request.user.has_perm("common.replay_rejectedevent")

    @admin.action(description="Replay through the consumer (after fixing the cause)", permissions=["replay"])
    def replay(self, request, queryset):
        counts = rejected_events_replay(rejected=queryset)
        level = messages.WARNING if counts[ReplayOutcome.REJECTED_AGAIN] else messages.SUCCESS
        self.message_user(request, ", ".join(f"{count} {outcome.value.replace('_', ' ')}"
                                             for outcome, count in counts.items()), level)
