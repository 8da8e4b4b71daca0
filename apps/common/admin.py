from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import render

from apps.common.http.problems import ApplicationError
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


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent that only services write (lines, attempts, uses, history)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@dataclass(frozen=True)
class ActionOutcome:
    """What a list action reports for one object its service call went through for."""

    message: str
    level: int = messages.SUCCESS


def action_each(modeladmin: admin.ModelAdmin, request, objects: Iterable, *, name: Callable[[Any], str], verb: str,
                act: Callable[[Any], ActionOutcome | None]) -> None:
    """A list action's service call on each selected object, one message each: "<name>: not
    <verb>: <why>" when the service refuses (ApplicationError), and the others go on; else
    `act`'s outcome, by default "<name>: <verb>."."""
    for obj in objects:
        try:
            outcome = act(obj) or ActionOutcome(f"{verb}.")
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{name(obj)}: not {verb}: {exc.detail}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{name(obj)}: {outcome.message}", outcome.level)


def action_form(modeladmin: admin.ModelAdmin, request, template: str, *, objects: Iterable, form,
                title: str) -> HttpResponse:
    """The page of a list action that asks for input first. `template` extends
    admin/common/action_form.html, which posts the selection back with "apply"."""
    return render(request, template, {
        **modeladmin.admin_site.each_context(request), "opts": modeladmin.model._meta, "title": title,
        "objects": objects, "form": form, "action": request.POST.get("action", ""),
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    })


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
