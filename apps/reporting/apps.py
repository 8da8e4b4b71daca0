from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "apps.reporting"
    label = "reporting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.common.messaging.consumers import consumer_register
        from apps.reporting.services.consumer import CONSUMER

        # The queue "reporting.events" gets orders.# and payments.#; event_project applies each
        # event through the reporting inbox on the reporting alias.
        consumer_register(CONSUMER)
