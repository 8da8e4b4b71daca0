"""Catalog reads are cached in Redis (django-redis, the `default` cache); every write path
invalidates what it changed; a cold key is rebuilt once; a dead Redis degrades to the database."""

import io
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from apps.catalog import api as catalog
from apps.catalog import views
from apps.catalog.models import Product, Stock
from apps.catalog.services.sweeper import reservations_sweep
from apps.common.observability import degraded
from tests.catalog.factories import ProductFactory
from tests.concurrency import race

db = pytest.mark.django_db(databases=["default", "catalog"])
threaded_db = pytest.mark.django_db(transaction=True, databases=["default", "catalog"])

LIST = "/api/v1/products/"
DEAD_REDIS = {"default": {
    "BACKEND": "apps.common.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
    "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
}}


def detail(sku):
    return f"/api/v1/products/{sku}/"


def available(client, sku):
    return client.get(detail(sku)).json()["availability"]["available"]


def list_prices(client, **params):
    return {item["sku"]: item["price"] for item in client.get(LIST, params).json()["results"]}


class Queries:
    """Every query on both aliases while the block runs."""

    def __enter__(self):
        self.contexts = [CaptureQueriesContext(connections[alias]) for alias in ("catalog", "default")]
        for context in self.contexts:
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in self.contexts:
            context.__exit__(*exc)

    @property
    def count(self):
        return sum(len(context) for context in self.contexts)


# ---------------------------------------------------------------- hits

@db
def test_a_cached_detail_read_makes_no_database_query(api_client):
    ProductFactory(sku="LAMP", units=4)
    with Queries() as cold:
        first = api_client.get(detail("LAMP"))

    with Queries() as warm:
        second = api_client.get(detail("LAMP"))

    assert cold.count >= 2  # the product and its stock
    assert warm.count == 0
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second["ETag"] == first["ETag"] == '"1"'


@db
def test_with_the_cache_switched_off_every_read_goes_to_the_database(api_client, settings):
    settings.CATALOG_CACHE_ENABLED = False
    ProductFactory(sku="LAMP", units=4)
    api_client.get(detail("LAMP"))
    with Queries() as again:
        response = api_client.get(detail("LAMP"))
    assert response.status_code == 200
    assert again.count >= 2


@db
def test_a_cached_list_page_makes_no_database_query_and_other_filters_have_their_own_page(api_client):
    ProductFactory(sku="LAMP", name="Lamp")
    ProductFactory(sku="MUG", name="Mug")
    api_client.get(LIST, {"search": "lamp"})

    with Queries() as warm:
        page = api_client.get(LIST, {"search": "lamp"})

    assert warm.count == 0
    assert [item["sku"] for item in page.json()["results"]] == ["LAMP"]
    assert [item["sku"] for item in api_client.get(LIST, {"search": "mug"}).json()["results"]] == ["MUG"]


@db
def test_unknown_skus_are_cached_as_404_until_the_product_is_created(api_client, staff_client):
    api_client.get(detail("LATER"))
    with Queries() as warm:
        assert api_client.get(detail("LATER")).status_code == 404
    assert warm.count == 0

    staff_client.post(LIST, {"sku": "LATER", "name": "Late", "price": "5.00", "currency": "EUR"}, format="json")

    assert api_client.get(detail("LATER")).status_code == 200


# ---------------------------------------------------------------- invalidation by every write path

@db
def test_what_the_cache_holds_is_what_is_served_until_a_service_writes(api_client, staff_client):
    ProductFactory(sku="LAMP", price=Decimal("19.99"))
    api_client.get(detail("LAMP"))
    list_prices(api_client)
    # A write that bypasses the services is not seen: the pages really come from the cache...
    Product.objects.filter(pk="LAMP").update(name="Sneaky")
    assert api_client.get(detail("LAMP")).json()["name"] != "Sneaky"

    # ...and a write through the API invalidates both the detail and the list pages.
    staff_client.patch(detail("LAMP"), {"price": "15.00"}, format="json", HTTP_IF_MATCH='"1"')

    assert api_client.get(detail("LAMP")).json()["price"] == "15.00"
    assert list_prices(api_client) == {"LAMP": "15.00"}


@db
def test_creating_and_deactivating_invalidate_the_list_pages(api_client, staff_client):
    ProductFactory(sku="LAMP")
    assert list(list_prices(api_client)) == ["LAMP"]

    staff_client.post(LIST, {"sku": "MUG", "name": "Mug", "price": "5.00", "currency": "EUR"}, format="json")
    assert list(list_prices(api_client)) == ["LAMP", "MUG"]

    staff_client.post(f"{detail('LAMP')}deactivate/")
    assert list(list_prices(api_client)) == ["MUG"]
    assert api_client.get(detail("LAMP")).json()["active"] is False


@db
def test_stock_adjustments_invalidate_the_availability(api_client, staff_client):
    ProductFactory(sku="LAMP", units=4)
    assert available(api_client, "LAMP") == 4

    staff_client.post(f"{detail('LAMP')}stock-adjustments/", {"delta": 6, "reason": "delivery"}, format="json",
                      HTTP_IDEMPOTENCY_KEY="d1")

    assert available(api_client, "LAMP") == 10


@db
def test_reservations_release_commit_and_expiry_invalidate_the_availability(api_client):
    ProductFactory(sku="LAMP", units=10)
    first, second = uuid.uuid4(), uuid.uuid4()
    assert available(api_client, "LAMP") == 10

    catalog.stock_reserve(order_id=first, lines=[catalog.StockLine(sku="LAMP", quantity=3)])
    assert available(api_client, "LAMP") == 7
    catalog.stock_release(order_id=first)
    assert available(api_client, "LAMP") == 10
    catalog.stock_reserve(order_id=second, lines=[catalog.StockLine(sku="LAMP", quantity=2)],
                          ttl=timedelta(minutes=1))
    assert available(api_client, "LAMP") == 8
    reservations_sweep(now=timezone.now() + timedelta(minutes=2))
    assert available(api_client, "LAMP") == 10
    catalog.stock_reserve(order_id=second, lines=[catalog.StockLine(sku="LAMP", quantity=2)])
    catalog.stock_commit(order_id=second)
    assert available(api_client, "LAMP") == 8


@db
def test_seeding_invalidates_the_list_pages(api_client):
    assert list_prices(api_client) == {}

    call_command("catalog_seed", products=3, stdout=io.StringIO())

    assert list(list_prices(api_client)) == ["DEMO-000001", "DEMO-000002", "DEMO-000003"]


# ---------------------------------------------------------------- stampede guard

@threaded_db
def test_a_cold_detail_is_rebuilt_by_one_request_while_the_others_wait_for_it(monkeypatch):
    ProductFactory(sku="HOT", units=3)
    real_build = views._detail_data
    builds = []

    def slow_build(sku):
        builds.append(sku)
        threading.Event().wait(0.3)  # a slow database: every reader arrives while it runs
        return real_build(sku)

    monkeypatch.setattr(views, "_detail_data", slow_build)

    def read(i):
        with CaptureQueriesContext(connections["catalog"]) as queries:
            response = APIClient().get(detail("HOT"))
        return response.status_code, response.json(), len(queries)

    results = race(12, read)

    assert builds == ["HOT"]
    assert {status for status, _, _ in results} == {200}
    assert all(body == results[0][1] for _, body, _ in results)
    assert sorted(count for _, _, count in results)[:-1] == [0] * 11  # only the rebuilding request queried


@threaded_db
@override_settings(CATALOG_CACHE_WAIT_SECONDS=0.2)
def test_readers_do_not_wait_longer_than_allowed_for_a_stuck_rebuild(monkeypatch):
    ProductFactory(sku="HOT", units=3)
    real_build = views._detail_data
    stuck, release = threading.Event(), threading.Event()

    def build(sku):
        if not stuck.is_set():
            stuck.set()
            release.wait(10)  # the first rebuild hangs until the test lets it go
        return real_build(sku)

    monkeypatch.setattr(views, "_detail_data", build)

    def first_reader():
        try:
            return APIClient().get(detail("HOT")).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        hung = pool.submit(first_reader)
        stuck.wait(5)
        response = APIClient().get(detail("HOT"))  # served from the database after the short wait
        release.set()
        assert hung.result() == 200

    assert response.status_code == 200
    assert response.json()["availability"]["available"] == 3


# ---------------------------------------------------------------- Redis down

@db
def test_with_redis_down_reads_and_writes_are_served_from_the_database_and_logged(api_client, staff_client, caplog):
    ProductFactory(sku="LAMP", price=Decimal("19.99"), units=4)
    caplog.set_level(logging.WARNING, logger="apps.common.observability.degraded")
    degraded.reset()
    failures_before = catalog_cache_failures()

    with override_settings(CACHES=DEAD_REDIS):
        first = api_client.get(detail("LAMP"))
        listed = api_client.get(LIST)
        patched = staff_client.patch(detail("LAMP"), {"price": "9.99"}, format="json", HTTP_IF_MATCH='"1"')
        second = api_client.get(detail("LAMP"))
        Stock.objects.filter(pk="LAMP").update(available=3)  # every read really goes to the database
        third = api_client.get(detail("LAMP"))

    assert (first.status_code, listed.status_code, patched.status_code, second.status_code) == (200, 200, 200, 200)
    assert [item["sku"] for item in listed.json()["results"]] == ["LAMP"]
    assert (first.json()["price"], second.json()["price"]) == ("19.99", "9.99")
    assert third.json()["availability"]["available"] == 3
    # Two failures: the first read's (the later reads do not wait for Redis again) and the write's
    # invalidation (writes still try, every time); the outage is logged once.
    assert catalog_cache_failures() - failures_before == 2
    messages = [record.getMessage() for record in caplog.records if record.name == "apps.common.observability.degraded"]
    assert len(messages) == 1
    assert messages[0].startswith("redis unavailable")


def catalog_cache_failures() -> float:
    labels = {"dependency": "redis", "component": "catalog_cache"}
    return REGISTRY.get_sample_value("dependency_failures_total", labels) or 0.0
