from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.common.forking import forking_install
        from apps.common.roles import roles_sync_after_migrate

        forking_install()  # a forked child never uses or closes its parent's database connections
        # The staff role groups follow apps.common.roles after every migrate (and test flush).
        post_migrate.connect(roles_sync_after_migrate, sender=self, dispatch_uid="common.roles_sync")
        if settings.TELEMETRY_ENABLED:
            from apps.common.observability.telemetry import telemetry_setup

            telemetry_setup()
