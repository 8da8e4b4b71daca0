from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the accounts problem codes at start-up, so that /problems/<code> resolves
        # before the first request has loaded the URLconf (and with it the views).
        from apps.accounts import errors  # noqa: F401
