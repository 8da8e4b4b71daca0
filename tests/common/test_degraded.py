"""A dead Redis: requests keep working, every failure is counted, and the log gets one line per
interval instead of one traceback per cache call."""

import logging
import socket
from decimal import Decimal

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY

from apps.common.observability import degraded
from tests.catalog.factories import ProductFactory


def dead_redis_cache() -> dict:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {"default": {
        "BACKEND": "apps.common.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "SOCKET_CONNECT_TIMEOUT": 0.5,
                    "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
    }}


def redis_failures(component: str) -> float:
    labels = {"dependency": "redis", "component": component}
    return REGISTRY.get_sample_value("dependency_failures_total", labels) or 0.0


@pytest.mark.django_db(databases=["default", "catalog"])
def test_with_redis_down_requests_succeed_and_the_outage_is_logged_once_and_counted(
        api_client, customer_client, settings, caplog):
    # Given a product, a dead Redis, and catalog reads that try Redis again every time
    ProductFactory(sku="LAMP", price=Decimal("19.99"), units=4)
    settings.CATALOG_CACHE_RETRY_SECONDS = 0
    degraded.reset()
    throttle_before, catalog_before = redis_failures("cache"), redis_failures("catalog_cache")
    caplog.set_level(logging.WARNING)

    # When 10 customers' order lists and 10 anonymous product reads are served
    with override_settings(CACHES=dead_redis_cache()):
        statuses = [customer_client.get("/api/v1/orders/").status_code for _ in range(10)]
        statuses += [api_client.get("/api/v1/products/LAMP/").status_code for _ in range(10)]

    # Then every request succeeds, one warning says Redis is down, and each failure is counted:
    # one throttle counter per request, one catalog cache read per product read
    assert statuses == [200] * 20
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING
                and not record.name.startswith("opentelemetry")]  # a span processor an earlier test shut down
    assert len(warnings) == 1, [record.getMessage() for record in warnings]
    assert warnings[0].getMessage().startswith("redis unavailable")
    assert redis_failures("cache") - throttle_before == 20
    assert redis_failures("catalog_cache") - catalog_before == 10
