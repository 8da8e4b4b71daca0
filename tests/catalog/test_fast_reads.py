"""Anonymous cached product reads are answered before DRF's dispatch (apps.catalog.fast): with
the answer DRF gives, counted against the same rate; everything else is still DRF's."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test.utils import override_settings
from prometheus_client import REGISTRY
from redis.connection import Connection
from rest_framework.renderers import JSONRenderer

from apps.catalog import cache as catalog_cache
from apps.catalog import fast
from apps.catalog.views import ProductViewSet
from apps.common.http.throttling import AnonThrottle
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.catalog.test_cache import DEAD_REDIS, catalog_cache_failures

db = pytest.mark.django_db(databases=["default", "catalog"])

LIST = "/api/v1/products/"
DETAIL_ROUTE = "api/v1/products/(?P<sku>[A-Za-z0-9][A-Za-z0-9._-]{0,63})/$"  # the metrics' label, as before


def detail(sku):
    return f"/api/v1/products/{sku}/"


def seen(response) -> tuple:
    """What a client sees: the status, the body and the headers (but the request's own id)."""
    headers = {name: value for name, value in response.headers.items() if name != "X-Request-ID"}
    return response.status_code, response.content, headers


@pytest.fixture
def drf_dispatches(monkeypatch):
    """The requests the DRF view dispatched, as (method, path)."""
    dispatched = []
    real = ProductViewSet.dispatch

    def dispatch(self, request, *args, **kwargs):
        dispatched.append((request.method, request.path))
        return real(self, request, *args, **kwargs)

    monkeypatch.setattr(ProductViewSet, "dispatch", dispatch)
    return dispatched


@pytest.fixture
def through_drf(monkeypatch):
    """through_drf(send): send() with the fast path off, every request answered by the DRF view."""

    def send_through_drf(send):
        with monkeypatch.context() as patch:
            patch.setattr(fast, "_anonymous_json_read", lambda request: False)
            return send()

    return send_through_drf


@pytest.fixture
def round_trips(monkeypatch):
    """Every command, pipeline or script a Redis client sent and waited for."""
    sent = []
    real = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return real(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    return sent


@pytest.fixture
def rate(monkeypatch):
    """rate("2/minute"): the anon rate; the throttles' clock stands 30 s into a window."""

    def set_rate(value: str):
        monkeypatch.setattr(AnonThrottle, "THROTTLE_RATES", {"anon": value})
        monkeypatch.setattr(AnonThrottle, "timer", staticmethod(lambda: 1_800_000_030.0))

    return set_rate


@pytest.fixture
def lamps(db):
    lamps = CategoryFactory(slug="lamps")
    ProductFactory(sku="LAMP", category=lamps, price=Decimal("19.99"), units=4)
    ProductFactory(sku="LAMP-2", category=lamps, price=Decimal("24.00"), units=1)
    ProductFactory(sku="RUG", price=Decimal("5.00"), units=2)


# ---------------------------------------------------------------- the same answer

@db
@pytest.mark.parametrize("method, path", [
    ("get", detail("LAMP")),
    ("head", detail("LAMP")),
    ("get", LIST),
    ("head", LIST),
    ("get", f"{LIST}?page_size=1"),
    ("get", f"{LIST}?category=lamps&min_price=20"),
])
def test_a_cached_read_gets_the_answer_drf_gives(lamps, api_client, drf_dispatches, through_drf, method, path):
    # Given a cached read
    getattr(api_client, method)(path)
    drf_dispatches.clear()

    # When it is read again, and then with the fast path off
    answer = getattr(api_client, method)(path)
    dispatched = list(drf_dispatches)
    drf_answer = through_drf(lambda: getattr(api_client, method)(path))

    # Then the fast path answered it, with DRF's status, body and headers
    assert dispatched == []
    assert answer.status_code == 200
    assert seen(answer) == seen(drf_answer)


@db
def test_a_cached_next_page_gets_the_answer_drf_gives(lamps, api_client, drf_dispatches, through_drf):
    # Given the second page of the list, cached
    page_two = api_client.get(LIST, {"page_size": 2}).json()["next"]
    first = api_client.get(page_two)
    drf_dispatches.clear()

    # When it is read again, and then with the fast path off
    answer = api_client.get(page_two)
    dispatched = list(drf_dispatches)
    drf_answer = through_drf(lambda: api_client.get(page_two))

    # Then the fast path answered it, with DRF's answer
    assert dispatched == []
    assert [item["sku"] for item in answer.json()["results"]] == ["RUG"]
    assert seen(answer) == seen(drf_answer) == seen(first)


@db
def test_if_none_match_still_gets_the_whole_product_with_its_etag(lamps, api_client, drf_dispatches):
    # Given a cached detail and its ETag
    etag = api_client.get(detail("LAMP"))["ETag"]
    drf_dispatches.clear()

    # When it is asked for again, if it changed
    answer = api_client.get(detail("LAMP"), HTTP_IF_NONE_MATCH=etag)

    # Then the fast path answers it whole, as DRF does (no 304)
    assert drf_dispatches == []
    assert (answer.status_code, answer["ETag"], answer.json()["sku"]) == (200, etag, "LAMP")


@db
def test_a_write_is_seen_at_once_by_the_fast_path(lamps, api_client, staff_client, drf_dispatches):
    # Given a cached detail and a cached list
    api_client.get(detail("LAMP"))
    api_client.get(LIST)

    # When staff change the product's price and add a product
    staff_client.patch(detail("LAMP"), {"price": "15.00"}, format="json", HTTP_IF_MATCH='"1"')
    staff_client.post(LIST, {"sku": "VASE", "name": "Vase", "price": "9.00", "currency": "EUR"}, format="json")
    changed = api_client.get(detail("LAMP"))
    listed = api_client.get(LIST)
    drf_dispatches.clear()
    again = api_client.get(detail("LAMP"))

    # Then anonymous readers see the new price and ETag and the new product, and the fast path serves them after
    assert (changed.json()["price"], changed["ETag"]) == ("15.00", '"2"')
    assert "VASE" in [item["sku"] for item in listed.json()["results"]]
    assert drf_dispatches == []
    assert seen(again) == seen(changed)


@db
def test_a_list_page_s_links_are_those_of_the_address_it_was_read_at(lamps, api_client):
    # Given a page read with a query parameter the list ignores
    tagged = api_client.get(LIST, {"page_size": 1, "utm_source": "mail"}).json()

    # When the same page is read without it
    plain = api_client.get(LIST, {"page_size": 1}).json()

    # Then each page's link to the next one is that of its own address
    assert "utm_source=mail" in tagged["next"]
    assert "utm_source" not in plain["next"]


# ---------------------------------------------------------------- the same rate

@db
def test_a_client_over_its_rate_gets_drf_s_429_from_the_fast_path(lamps, api_client, rate, drf_dispatches,
                                                                  through_drf):
    # Given a client that used the rate's two requests on a cached detail
    rate("2/minute")
    api_client.get(detail("LAMP"))
    api_client.get(detail("LAMP"))
    drf_dispatches.clear()

    # When it reads it again, and then with the fast path off
    refused = api_client.get(detail("LAMP"))
    dispatched = list(drf_dispatches)
    refused_by_drf = through_drf(lambda: api_client.get(detail("LAMP")))

    # Then the fast path refused it with DRF's problem: code, Retry-After (the rest of the window), headers
    assert dispatched == []
    assert (refused.status_code, refused["Retry-After"], refused.json()["code"]) == (429, "30", "throttled")
    assert refused["Content-Type"] == "application/problem+json"
    assert seen(refused) == seen(refused_by_drf)


@db
def test_the_fast_path_and_the_drf_view_count_against_one_rate_per_address(lamps, api_client, rate):
    # Given a rate of three requests a minute
    rate("3/minute")

    # When a client reads through both paths, and another client reads
    statuses = [
        api_client.get(detail("LAMP")).status_code,  # a miss: the DRF view answers and counts it (1)
        api_client.get(detail("LAMP")).status_code,  # the fast path (2)
        api_client.get(detail("LAMP"), {"format": "json"}).status_code,  # the DRF view (3)
        api_client.get(detail("LAMP")).status_code,  # the fast path: over the rate
        api_client.get(LIST).status_code,  # a miss, for the DRF view: over the rate
    ]
    other_client = api_client.get(detail("LAMP"), REMOTE_ADDR="10.0.0.2").status_code

    # Then the fourth and fifth are refused whichever path answers; the other client is not
    assert statuses == [200, 200, 200, 429, 429]
    assert other_client == 200


@db
def test_a_fast_read_takes_one_round_trip_to_redis_and_no_json_encoding(lamps, api_client, monkeypatch,
                                                                        round_trips):
    # Given a cached detail and list
    api_client.get(detail("LAMP"))
    api_client.get(LIST)
    round_trips.clear()

    # When they are read again, with JSON encoding broken
    def broken(*args, **kwargs):
        raise AssertionError("encoded JSON")

    monkeypatch.setattr(JSONRenderer, "render", broken)
    answers = [api_client.get(detail("LAMP")), api_client.get(LIST)]

    # Then each was sent as the cache holds it, counted and read in one round trip; the counter expires
    assert [answer.status_code for answer in answers] == [200, 200]
    assert [answer.json()["sku"] for answer in answers[:1]] == ["LAMP"]
    assert len(round_trips) == 2
    counters = list(cache.keys("throttle_anon_*"))
    assert counters and all(0 < cache.ttl(key) <= 61 for key in counters)


# ---------------------------------------------------------------- everything else is DRF's

@db
@pytest.mark.parametrize("authorization, code", [("Token nope", "authentication_failed"),
                                                 ("Bearer nope", "authentication_failed")])
def test_bad_credentials_on_a_cached_read_get_drf_s_401(lamps, api_client, authorization, code):
    api_client.get(detail("LAMP"))

    answer = api_client.get(detail("LAMP"), HTTP_AUTHORIZATION=authorization)

    assert (answer.status_code, answer.json()["code"]) == (401, code)


@db
def test_staff_signed_in_by_session_see_inactive_products_in_a_cached_list(lamps, api_client, staff):
    # Given an inactive product and the public list, cached
    ProductFactory(sku="OLD-LAMP", active=False)
    public = [item["sku"] for item in api_client.get(LIST).json()["results"]]
    api_client.get(LIST)

    # When staff signed in to the admin read the list
    api_client.force_login(staff)
    staff_view = [item["sku"] for item in api_client.get(LIST).json()["results"]]

    # Then they see the inactive product too, which the public does not
    assert "OLD-LAMP" not in public
    assert "OLD-LAMP" in staff_view


@db
@pytest.mark.parametrize("path", [detail("LAMP"), LIST])
@pytest.mark.parametrize("headers, params, status, content_type", [
    ({"HTTP_ACCEPT": "text/html"}, {}, 200, "text/html; charset=utf-8"),  # the browsable API
    ({}, {"format": "api"}, 200, "text/html; charset=utf-8"),
    ({"HTTP_ACCEPT": "application/xml"}, {}, 406, "application/problem+json"),
])
def test_other_media_types_are_negotiated_by_drf(lamps, api_client, path, headers, params, status, content_type):
    api_client.get(path, params)  # cached as JSON

    answer = api_client.get(path, params, **headers)

    assert (answer.status_code, answer["Content-Type"]) == (status, content_type)


@db
def test_indented_json_is_indented(lamps, api_client):
    api_client.get(detail("LAMP"))

    answer = api_client.get(detail("LAMP"), HTTP_ACCEPT="application/json; indent=4")

    assert answer.content.startswith(b'{\n    "sku": "LAMP"')


@db
def test_other_methods_and_invalid_filters_on_a_cached_list_are_drf_s(lamps, api_client):
    # Given the list, cached
    api_client.get(LIST)

    # When anonymous clients post to it, ask for its options (staff only) and filter it wrongly
    posted = api_client.post(LIST, {"sku": "VASE", "name": "Vase", "price": "9.00", "currency": "EUR"}, format="json")
    options = api_client.options(LIST)
    invalid = api_client.get(LIST, {"min_price": "cheap"})

    # Then DRF answers each as before
    assert (posted.status_code, posted.json()["code"]) == (401, "not_authenticated")
    assert (options.status_code, options.json()["code"]) == (401, "not_authenticated")
    assert (invalid.status_code, invalid.json()["errors"][0]["field"]) == (400, "min_price")


@db
def test_a_cold_read_and_a_cached_404_are_answered_by_drf(lamps, api_client, drf_dispatches):
    cold = api_client.get(detail("LAMP"))
    missing = [api_client.get(detail("NOPE")), api_client.get(detail("NOPE"))]

    assert cold.status_code == 200
    assert [(answer.status_code, answer.json()["detail"]) for answer in missing] == [
        (404, "No product with SKU NOPE.")] * 2
    assert drf_dispatches == [("GET", detail("LAMP")), ("GET", detail("NOPE")), ("GET", detail("NOPE"))]


@db
def test_with_redis_down_a_read_is_served_from_the_database_and_redis_is_not_tried_again(
        lamps, api_client, monkeypatch):
    monkeypatch.setattr(catalog_cache, "_reads_paused_until", {})
    failures_before = catalog_cache_failures()

    with override_settings(CACHES=DEAD_REDIS):
        answers = [api_client.get(detail("LAMP")), api_client.get(detail("LAMP")), api_client.get(LIST)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].json()["availability"]["available"] == 4
    assert catalog_cache_failures() - failures_before == 1  # the first read's; later reads do not wait for Redis


# ---------------------------------------------------------------- what operators see

@db
def test_a_fast_read_is_counted_under_the_detail_s_route(lamps, api_client, drf_dispatches):
    def served():
        labels = {"route": DETAIL_ROUTE, "method": "GET", "status": "200"}
        return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0

    before = served()
    api_client.get(detail("LAMP"))  # the DRF view
    api_client.get(detail("LAMP"))  # the fast path

    assert len(drf_dispatches) == 1
    assert served() - before == 2
