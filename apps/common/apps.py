from django.apps import AppConfig
from django.conf import settings


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.common.forking import forking_install
        from apps.common.relay import relay_install

        forking_install()  # a forked child never uses or closes its parent's database connections

        relay_install()  # publish each recorded event right after its transaction commits
        if settings.TELEMETRY_ENABLED:
            from apps.common.telemetry import telemetry_setup

            telemetry_setup()
