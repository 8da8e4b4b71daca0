from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "apps.pricing"
    label = "pricing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.pricing import errors  # noqa: F401  (registers the voucher problem codes)
        from apps.pricing.taxes import RateTableTaxCalculator, tax_calculator_register

        # The built-in calculator; another app registers a tax service's adapter the same way.
        tax_calculator_register(name=RateTableTaxCalculator.name, factory=RateTableTaxCalculator)
