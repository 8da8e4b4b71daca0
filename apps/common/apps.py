from django.apps import AppConfig
from django.conf import settings


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        if settings.TELEMETRY_ENABLED:
            from apps.common.telemetry import telemetry_setup

            telemetry_setup()
