"""Typed errors of apps.notifications (problem codes are part of the API contract)."""

from apps.common.http.problems import ApplicationError, Conflict


class DeliveryTransitionNotAllowed(Conflict):
    code, status, title = "delivery_transition_not_allowed", 409, "The delivery cannot change to that status now."


class WebhookUrlRefused(ApplicationError):
    code, status, title = "webhook_url_refused", 422, "The webhook URL is not allowed."


class WebhookEventTypeNotRouted(ApplicationError):
    code, status, title = ("webhook_event_type_not_routed", 422,
                           "The notifications module does not receive events of that type.")


class DeliveryNotReplayable(Conflict):
    code, status, title = "delivery_not_replayable", 409, "Only dead deliveries can be replayed."
