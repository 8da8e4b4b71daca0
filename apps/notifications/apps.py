from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from apps.common.messaging.consumers import EventConsumer, consumer_register
        from apps.notifications.models import InboxEvent
        from apps.notifications.services.fanout import event_notify

        # The queue "notifications.events" gets the event types these patterns match.
        consumer_register(EventConsumer(
            name="notifications",
            bindings=tuple(settings.NOTIFICATIONS_EVENT_BINDINGS),
            handler=event_notify,
            inbox=InboxEvent,
            using="default",
        ))
