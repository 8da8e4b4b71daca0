"""The Redis cache backend: django-redis, whose errors (IGNORE_EXCEPTIONS) go to
apps.common.observability.degraded instead of a traceback per cache call."""

from __future__ import annotations

import sys

from django_redis.cache import RedisCache as _RedisCache

from apps.common.observability.degraded import dependency_failed


class _IgnoredErrorReporter:
    """Takes the place of django-redis' logger, which it calls with `.exception()` inside the
    `except` of each error it ignores."""

    def exception(self, *args, **kwargs) -> None:
        error = sys.exc_info()[1]
        cause = error.__cause__ if error is not None and error.__cause__ is not None else error
        dependency_failed(dependency="redis", component="cache", error=cause,
                          fallback="cache reads miss, writes are dropped, throttles let requests through")


class RedisCache(_RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._log_ignored_exceptions = True
        self.logger = _IgnoredErrorReporter()
