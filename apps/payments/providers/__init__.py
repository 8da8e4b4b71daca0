"""Provider adapters behind one interface (base.PaymentProvider). The adapter for a payment
method comes from settings.PAYMENTS_PROVIDERS; a payment remembers its provider by name."""

from __future__ import annotations

from django.conf import settings

from apps.payments.providers.base import PaymentProvider

PROVIDER_NAMES = ("sandbox", "http")


class UnknownProvider(LookupError):
    pass


def provider_class(name: str) -> type[PaymentProvider]:
    if name == "sandbox":
        from apps.payments.providers.sandbox import SandboxProvider

        return SandboxProvider
    if name == "http":
        from apps.payments.providers.http import HttpProvider

        return HttpProvider
    raise UnknownProvider(f"No payment provider named {name!r}.")


def provider_named(name: str) -> PaymentProvider:
    """The configured adapter. Raises UnknownProvider, or ImproperlyConfigured when its settings are missing."""
    cls = provider_class(name)
    if name == "http":
        return cls(base_url=settings.PAYMENTS_HTTP_BASE_URL, secret=settings.PAYMENTS_HTTP_SECRET,
                   connect_timeout=settings.PAYMENTS_HTTP_CONNECT_TIMEOUT,
                   read_timeout=settings.PAYMENTS_HTTP_READ_TIMEOUT)
    return cls()


def provider_name_for_method(method: str) -> str:
    name = settings.PAYMENTS_PROVIDERS.get(method)
    if name is None:
        raise UnknownProvider(f"No payment provider is configured for the payment method {method!r}.")
    if name not in PROVIDER_NAMES:
        raise UnknownProvider(f"PAYMENTS_PROVIDERS names an unknown provider {name!r} for {method!r}.")
    return name
