"""A cached catalog read asks Redis once (the generation and the entry under it, in one script),
and the throttle counts a request in one round trip; generations an earlier release wrote (text)
keep serving and invalidating."""

import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from redis.connection import Connection

from apps.catalog.cache import CachedRead, product_detail_cached
from apps.common.http.throttling import AnonThrottle
from tests.catalog.factories import ProductFactory

db = pytest.mark.django_db(databases=["default", "catalog"])


def detail(sku):
    return f"/api/v1/products/{sku}/"


@pytest.fixture
def round_trips(monkeypatch):
    """How many times a Redis client sent something and waited for the answer (one per command,
    one per pipeline or script)."""
    sent = []
    real = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return real(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    return sent


@db
def test_a_cached_detail_takes_one_round_trip_to_redis(api_client, round_trips):
    # Given a product whose detail is cached
    ProductFactory(sku="LAMP", units=4)
    first = api_client.get(detail("LAMP"))
    round_trips.clear()

    # When it is read from the cache again
    cached = product_detail_cached(sku="LAMP", build=lambda: pytest.fail("read from the database"))

    # Then Redis was asked once, and answered what the API serves
    assert len(round_trips) == 1
    assert json.loads(cached.body) == first.json()


@db
def test_the_throttle_counts_a_request_in_one_round_trip_with_an_expiry(api_client, monkeypatch, round_trips):
    monkeypatch.setattr(AnonThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    ProductFactory(sku="LAMP", units=4)
    through_drf = detail("LAMP") + "?format=json"  # not a read apps.catalog.fast answers
    api_client.get(through_drf)
    round_trips.clear()

    second = api_client.get(through_drf)
    third = api_client.get(through_drf)

    assert (second.status_code, third.status_code) == (200, 429)
    assert len(round_trips) == 3  # the second read: its count and the cached entry; the third: its count
    counters = list(cache.keys("throttle_anon_*"))
    assert counters and all(0 < cache.ttl(key) <= 61 for key in counters)


@db
def test_a_generation_an_earlier_release_wrote_keeps_serving_and_a_write_replaces_it(api_client, staff_client):
    # Given a detail cached under a generation an earlier release wrote (text)
    ProductFactory(sku="LAMP", price=Decimal("19.99"), units=4)
    body = api_client.get(detail("LAMP")).json()
    cache.set("catalog:gen:product:LAMP", "3f2b9c0d4e5a46b7a8c9d0e1f2a3b4c5", 3600)
    cache.set("catalog:product-json:LAMP:3f2b9c0d4e5a46b7a8c9d0e1f2a3b4c5",
              CachedRead(body=json.dumps({**body, "name": "Cached earlier"}).encode(), etag='"1"'), 3600)

    # When it is read, then changed through the API
    served = api_client.get(detail("LAMP")).json()
    staff_client.patch(detail("LAMP"), {"price": "15.00"}, format="json", HTTP_IF_MATCH='"1"')

    # Then the earlier release's entry was served until the write, and the write's change after it
    assert served["name"] == "Cached earlier"
    after = api_client.get(detail("LAMP")).json()
    assert (after["price"], after["name"]) == ("15.00", body["name"])
