"""Redis-cached catalog reads (django-redis, the `default` cache) with explicit invalidation.

Keys carry a generation: a product's detail lives at `catalog:product:<sku>:<generation>`, list
pages at `catalog:list:<digest>:<generation>`. A write replaces the generation (a random number)
*after* the database write, so a reader that loaded old data before the write can only store
it under a generation nobody reads any more: nothing is served stale after a write. A read
takes the generation and the entry under it in one round trip (a Lua script: the entry's key
depends on the generation), so a hit costs one round trip and no process keeps a generation
of its own that a write elsewhere could leave stale.

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


def product_detail_cached(*, sku: str, build: Callable[[], dict | None]) -> dict | None:
    """The product's detail (with availability) as `build` makes it; None: no such product."""
    return _read_through(base=f"catalog:product:{sku}", generation_key=_product_generation_key(sku),
                         ttl=settings.CATALOG_CACHE_DETAIL_SECONDS, build=build)


def product_list_cached(*, parts: Iterable[tuple[str, Any]], build: Callable[[], dict]) -> dict:
    """A list page; `parts` is everything the page depends on (filters, cursor, host, who)."""
    canonical = "&".join(f"{name}={value}" for name, value in sorted(parts))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return _read_through(base=f"catalog:list:{digest}", generation_key=LIST_GENERATION_KEY,
                         ttl=settings.CATALOG_CACHE_LIST_SECONDS, build=build)


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
