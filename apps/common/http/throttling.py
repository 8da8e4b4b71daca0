"""Rate limits as fixed-window counters: one atomic increment per request.

DRF's own throttles keep every request's timestamp of the current window in one cache value,
read and rewritten on each request: two round trips and a value that grows with the rate (at
600/minute a busy user's list holds 600 floats, pickled both ways every time). A counter per
(scope, client, window) costs one round trip to Redis (INCR and EXPIRE NX, pipelined) and never
grows. The price is the usual one of fixed windows: a client may spend its budget at the end of
one window and again at the start of the next. Retry-After is the time left in the current window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.core.cache import cache, caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from redis.exceptions import RedisError
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from apps.common.observability.degraded import dependency_failed


def window_count(key: str, *, timeout: int) -> int | None:
    """Add one to the counter `key` (expiring `timeout` seconds after its first count) and return
    its new value; None when the cache is down: the request is let through, as DRF's throttles
    do, rather than failing every request with Redis."""
    if not isinstance(caches["default"], RedisCache):
        return _window_count_portable(key, timeout=timeout)
    # One round trip: the count and, for the window's first request, its expiry. A counter
    # whose first EXPIRE was lost (the client died between the two) gets it from the next one.
    pipeline = get_redis_connection("default").pipeline(transaction=False)
    redis_key = cache.make_key(key)
    pipeline.incr(redis_key)
    pipeline.expire(redis_key, timeout, nx=True)
    try:
        count, _ = pipeline.execute()
    except (RedisError, OSError) as exc:
        dependency_failed(dependency="redis", component="cache", error=exc,
                          fallback="throttles let requests through")
        return None
    return count


def _window_count_portable(key: str, *, timeout: int) -> int | None:
    """The same on any Django cache (the embedded default's local memory)."""
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request (or the key just expired)
        if cache.add(key, 1, timeout=timeout):
            return 1
        try:
            return cache.incr(key)  # another request created it first
        except ValueError:
            return None


@dataclass(frozen=True)
class Window:
    """The counter a request counts against: `key` (a cache key) expires `timeout` seconds after
    its first count; the window allows `limit` requests and ends `left` seconds from now."""

    key: str
    timeout: int
    limit: int
    left: float


class FixedWindowMixin:
    """For a SimpleRateThrottle subclass: keeps its cache key (scope + user or address) and rate.
    window() and admit() let a caller that counts by itself (apps.catalog.fast counts in the
    same round trip as its read) decide as allow_request() does."""

    wait_seconds: float = 0.0

    def window(self, request, view) -> Window | None:
        """The counter this request counts against; None: this rate does not apply to it."""
        if self.rate is None:
            return None
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return None
        now = self.timer()
        index = math.floor(now / self.duration)
        return Window(key=f"{self.key}:{index}", timeout=self.duration + 1, limit=self.num_requests,
                      left=(index + 1) * self.duration - now)

    def admit(self, window: Window, count: int | None) -> bool:
        """Whether the request that brought the counter to `count` (None: not counted, the cache
        is down) may pass; if not, wait() says for how long."""
        if count is not None and count > window.limit:
            self.wait_seconds = window.left
            return False
        return True

    def allow_request(self, request, view) -> bool:
        window = self.window(request, view)
        if window is None:
            return True
        return self.admit(window, window_count(window.key, timeout=window.timeout))

    def wait(self) -> float:
        return max(self.wait_seconds, 1.0)


class AnonThrottle(FixedWindowMixin, AnonRateThrottle):
    """Anonymous clients, per address: the "anon" rate."""


class UserThrottle(FixedWindowMixin, UserRateThrottle):
    """Authenticated users, per user: the "user" rate. Anonymous requests are AnonThrottle's
    alone (DRF's UserRateThrottle would count them a second time, by address)."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
