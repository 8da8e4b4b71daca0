"""Redis-cached catalog reads (django-redis, the `default` cache) with explicit invalidation.

An entry is the read as the API sends it (CachedRead: the rendered JSON body and, for a detail,
its ETag), so that a hit is answered without encoding JSON (apps.catalog.fast sends it as it is).
Keys carry a generation: a product's detail lives at `catalog:product-json:<sku>:<generation>`,
list pages at `catalog:list-json:<digest>:<generation>` (an earlier release kept dicts under
`catalog:product:` and `catalog:list:`; the two never read each other's entries during a rolling
deploy, and share the generations). A write replaces the generation (a random number)
*after* the database write, so a reader that loaded old data before the write can only store
it under a generation nobody reads any more: nothing is served stale after a write. A read
takes the generation and the entry under it in one round trip (a Lua script: the entry's key
depends on the generation), so a hit costs one round trip and no process keeps a generation
of its own that a write elsewhere could leave stale.

apps.catalog.fast asks for a hit and counts the client's throttle in that same round trip; a
miss is left to the DRF view, which rebuilds it as below (and counts the throttle itself).

A cold key is rebuilt by one request at a time: the first takes a short lock (SET NX); the
others wait briefly for its result and, if it does not come, read the database themselves.

When Redis is down every read is served from the database (counted and logged through
apps.common.observability.degraded, never an error); after a failure this process reads from the database
without trying Redis for a few seconds, so that an unreachable Redis does not cost every request
a connect timeout. Writes always try to invalidate; those made while Redis is down cannot, so
entries live at most their TTL."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.commands.core import Script
from redis.exceptions import RedisError

from apps.common.observability.degraded import dependency_failed

LIST_GENERATION_KEY = "catalog:gen:lists"
_GENERATION_TTL = 7 * 24 * 3600  # longer than any entry: a lost generation only costs a miss
_MISSING = "__catalog_missing__"  # a cached "no such product" (404s are cached too)
_POLL_SECONDS = 0.02
_reads_paused_until: dict[str, float] = {}  # cache location -> monotonic time to try Redis again
# The generation, and the entry under it when the generation is a number (generations are
# numbers, stored as such; a releases' older text one is read in two round trips instead).
_LOOKUP = """
local generation = redis.call('GET', KEYS[1])
if generation and string.match(generation, '^%d+$') then
    return {generation, redis.call('GET', ARGV[1] .. generation)}
end
return {generation}
"""
_lookup_script: Script | None = None
# A hit, and the client's throttle counter counted in the same round trip (apps.catalog.fast).
# Nothing is counted when there is no hit: the DRF view that answers instead counts it.
# KEYS: the generation, the counter (absent: not counted); ARGV: the entry's key without its
# generation, the encoded "missing" entry (a cached 404 is left to the DRF view), the counter's expiry.
_HIT = """
local generation = redis.call('GET', KEYS[1])
if not generation or not string.match(generation, '^%d+$') then
    return false
end
local entry = redis.call('GET', ARGV[1] .. generation)
if not entry or entry == ARGV[2] then
    return false
end
if not KEYS[2] then
    return {0, entry}
end
local count = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3], 'NX')
return {count, entry}
"""
_hit_script: Script | None = None


@dataclass(frozen=True)
class CachedRead:
    """A read as the API sends it: the JSON body as rendered, and the detail's ETag. Entries are
    pickled instances: a change of its fields needs new key names (see the module's docstring)."""

    body: bytes
    etag: str | None = None


@dataclass(frozen=True)
class CountedHit:
    """A cached read, and the client's count in its throttle window after this request (None:
    no counter was asked for)."""

    read: CachedRead
    count: int | None


class CacheDown(Exception):
    """Redis did not answer; the caller falls back to the database."""


def _call(method: str, *args, **kwargs) -> Any:
    """Call the cache without django-redis' IGNORE_EXCEPTIONS, so that an outage is seen."""
    backend = caches["default"]
    target = backend.client if isinstance(backend, RedisCache) else backend
    try:
        return getattr(target, method)(*args, **kwargs)
    except (ConnectionInterrupted, RedisError, OSError) as exc:
        raise CacheDown(f"{type(exc).__name__}: {exc}") from exc


def _product_generation_key(sku: str) -> str:
    return f"catalog:gen:product:{sku}"


def _generation_new() -> int:
    return secrets.randbits(62)


def _generation(key: str) -> str:
    generation = _call("get", key)
    if generation is None:
        candidate = _generation_new()
        _call("add", key, candidate, _GENERATION_TTL)
        generation = _call("get", key) or candidate
    return str(generation)


def _lookup(*, generation_key: str, base: str) -> tuple[str, Any]:
    """(the current generation, the entry `base` holds under it or None)."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        generation = _generation(generation_key)
        return generation, _call("get", f"{base}:{generation}")
    global _lookup_script
    try:
        connection = get_redis_connection("default")
        if _lookup_script is None:
            _lookup_script = connection.register_script(_LOOKUP)
        reply = _lookup_script(keys=[backend.client.make_key(generation_key)],
                               args=[backend.client.make_key(f"{base}:")], client=connection)
    except (RedisError, OSError) as exc:
        raise CacheDown(f"{type(exc).__name__}: {exc}") from exc
    generation = reply[0]
    if generation is None:
        return _generation(generation_key), None  # first read since the generation expired
    if len(reply) == 1:
        generation = str(backend.client.decode(generation))  # text, from an earlier release
        return generation, _call("get", f"{base}:{generation}")
    entry = reply[1]
    return generation.decode(), None if entry is None else backend.client.decode(entry)


def _location() -> str:
    return str(settings.CACHES["default"].get("LOCATION", ""))


def _read_through(*, base: str, generation_key: str, ttl: int, build: Callable[[], Any]) -> Any:
    """The cached value of `build()` (which may return None: cached as "missing")."""
    if not settings.CATALOG_CACHE_ENABLED or _reads_paused_until.get(_location(), 0.0) > time.monotonic():
        return build()
    built: list = []

    def build_once():
        if not built:
            built.append(build())
        return built[0]

    try:
        generation, cached = _lookup(generation_key=generation_key, base=base)
        if cached is not None:
            return None if cached == _MISSING else cached
        key = f"{base}:{generation}"
        lock, token = f"{key}:lock", uuid.uuid4().hex
        if _call("add", lock, token, settings.CATALOG_CACHE_LOCK_SECONDS):
            try:
                value = build_once()
                _call("set", key, _MISSING if value is None else value, ttl)
                return value
            finally:
                if _call("get", lock) == token:
                    _call("delete", lock)
        # Someone else rebuilds this key: wait a little for the result rather than stampede
        # the database; a holder that is slow or died is not waited for any longer.
        deadline = time.monotonic() + settings.CATALOG_CACHE_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)
            cached = _call("get", key)
            if cached is not None:
                return None if cached == _MISSING else cached
        return build_once()
    except CacheDown as exc:
        _reads_paused_until[_location()] = time.monotonic() + settings.CATALOG_CACHE_RETRY_SECONDS
        dependency_failed(dependency="redis", component="catalog_cache", error=exc,
                          fallback=f"catalog reads come from the database, for {settings.CATALOG_CACHE_RETRY_SECONDS}s "
                                   f"without trying Redis")
        return build_once()


def _detail_base(sku: str) -> str:
    return f"catalog:product-json:{sku}"


def _list_base(parts: Iterable[tuple[str, Any]]) -> str:
    canonical = "&".join(f"{name}={value}" for name, value in sorted(parts))
    return f"catalog:list-json:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def product_detail_cached(*, sku: str, build: Callable[[], CachedRead | None]) -> CachedRead | None:
    """The product's detail (with availability) as `build` renders it; None: no such product."""
    return _read_through(base=_detail_base(sku), generation_key=_product_generation_key(sku),
                         ttl=settings.CATALOG_CACHE_DETAIL_SECONDS, build=build)


def product_list_cached(*, parts: Iterable[tuple[str, Any]], build: Callable[[], CachedRead]) -> CachedRead:
    """A list page; `parts` is everything the page depends on (views.list_page_parts)."""
    return _read_through(base=_list_base(parts), generation_key=LIST_GENERATION_KEY,
                         ttl=settings.CATALOG_CACHE_LIST_SECONDS, build=build)


def _hit(*, generation_key: str, base: str, counter_key: str | None, counter_timeout: int) -> CountedHit | None:
    """The entry `base` holds under the current generation, if any, counting `counter_key` (a
    throttle's cache key) in the same round trip when there is one. None (nothing counted): a
    miss, a cached 404, a generation of an earlier release, the cache off, down or not Redis.
    A failure is not reported here: the DRF view that answers instead reads through the cache,
    which reports it and pauses reads (one failure counted per read, as without this)."""
    backend = caches["default"]
    if (not settings.CATALOG_CACHE_ENABLED or not isinstance(backend, RedisCache)
            or _reads_paused_until.get(_location(), 0.0) > time.monotonic()):
        return None
    global _hit_script
    keys = [backend.client.make_key(generation_key)]
    if counter_key is not None:
        keys.append(backend.client.make_key(counter_key))
    try:
        connection = get_redis_connection("default")
        if _hit_script is None:
            _hit_script = connection.register_script(_HIT)
        reply = _hit_script(keys=keys, client=connection, args=[
            backend.client.make_key(f"{base}:"), backend.client.encode(_MISSING), counter_timeout])
    except (RedisError, OSError):
        return None
    if reply is None:
        return None
    count, entry = reply
    return CountedHit(read=backend.client.decode(entry), count=count if counter_key is not None else None)


def product_detail_hit(*, sku: str, counter_key: str | None = None, counter_timeout: int = 0) -> CountedHit | None:
    """The cached detail of `sku`, counted against `counter_key` (see _hit); None: not a hit."""
    return _hit(generation_key=_product_generation_key(sku), base=_detail_base(sku),
                counter_key=counter_key, counter_timeout=counter_timeout)


def product_list_hit(*, parts: Iterable[tuple[str, Any]], counter_key: str | None = None,
                     counter_timeout: int = 0) -> CountedHit | None:
    """The cached list page of `parts` (as product_list_cached takes them), counted against
    `counter_key` (see _hit); None: not a hit."""
    return _hit(generation_key=LIST_GENERATION_KEY, base=_list_base(parts),
                counter_key=counter_key, counter_timeout=counter_timeout)


def catalog_cache_invalidate(*, skus: Iterable[str] = (), lists: bool = False) -> None:
    """After a write: the details of `skus` (and every list page, if `lists`) are rebuilt."""
    keys = {_product_generation_key(sku) for sku in skus}
    if lists:
        keys.add(LIST_GENERATION_KEY)
    if not keys:
        return
    try:
        _call("set_many", {key: _generation_new() for key in keys}, _GENERATION_TTL)
    except CacheDown as exc:
        dependency_failed(dependency="redis", component="catalog_cache", error=exc,
                          fallback="catalog entries a write changed expire by their TTL instead")
