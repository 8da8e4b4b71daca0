from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from apps.common.consumers import EventConsumer, consumer_register

        # The queue "notifications.events" gets the event types these patterns match.
        consumer_register(EventConsumer(
            name="notifications",
            bindings=tuple(settings.NOTIFICATIONS_EVENT_BINDINGS),
            handler="apps.notifications.services.event_notify",
            inbox="notifications.InboxEvent",
            using="default",
        ))
