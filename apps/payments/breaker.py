"""A circuit breaker around each provider, its state shared by every process through Redis.

closed     calls go through; consecutive failures are counted (a success resets the count).
open       after PAYMENTS_BREAKER_FAILURE_THRESHOLD consecutive failures: calls are refused at once
           with PaymentProviderUnavailable (Retry-After: the time left) for
           PAYMENTS_BREAKER_RESET_SECONDS.
half_open  then one call, the probe, goes through; the others are refused until it reports:
           success closes the breaker, failure opens it again. A probe that never reports (its
           process died) is replaced after PAYMENTS_BREAKER_PROBE_SECONDS.

Each step is one Lua script, atomic in Redis, on Redis' clock (no skew between hosts). The
timeouts are read from settings at each call, so a changed setting applies at once.
If Redis is unreachable the breaker fails open: the call goes through and the failure is counted
and logged (apps.common.observability.degraded), because refusing every payment when only the breaker's storage
is down would be worse."""

from __future__ import annotations

import functools
import logging
import math

import redis
from django.conf import settings

from apps.common.observability.degraded import dependency_failed
from apps.payments.errors import PaymentProviderUnavailable

logger = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
_KEY_TTL_SECONDS = 7 * 24 * 3600

# KEYS[1]: the breaker's hash. ARGV: action, threshold, reset_ms, probe_ms, ttl_s.
# Returns {allowed (1/0), state, wait_ms}.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local action, threshold = ARGV[1], tonumber(ARGV[2])
local reset_ms, probe_ms, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local result
if action == 'acquire' then
  if state == 'closed' then
    result = {1, state, 0}
  elseif state == 'open' then
    local waited = now - tonumber(redis.call('HGET', KEYS[1], 'opened_at'))
    if waited < reset_ms then
      result = {0, state, reset_ms - waited}
    else
      redis.call('HSET', KEYS[1], 'state', 'half_open', 'probe_at', now)
      result = {1, 'half_open', 0}
    end
  else
    local probing = now - tonumber(redis.call('HGET', KEYS[1], 'probe_at') or 0)
    if probing < probe_ms then
      result = {0, state, probe_ms - probing}
    else
      redis.call('HSET', KEYS[1], 'probe_at', now)
      result = {1, state, 0}
    end
  end
elseif action == 'success' then
  if state ~= 'open' then
    redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0)
    state = 'closed'
  end
  result = {1, state, 0}
elseif action == 'failure' then
  if state == 'half_open' then
    redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', now)
    state = 'open'
  elseif state == 'closed' then
    local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
    if failures >= threshold then
      redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', now)
      state = 'open'
    end
  end
  result = {1, state, 0}
else
  result = {1, state, 0}
end
redis.call('EXPIRE', KEYS[1], ttl)
return result
"""


@functools.cache
def _client(url: str) -> redis.Redis:
    # Short timeouts: the breaker must never be what makes a payment slow.
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)


@functools.cache
def _script(url: str):
    return _client(url).register_script(_SCRIPT)


class CircuitBreaker:
    def __init__(self, name: str):
        self.name = name
        self.key = f"payments:breaker:{name}"

    def _run(self, action: str) -> tuple[bool, str, int] | None:
        """The script's answer, or None when there is no Redis to ask (fail open)."""
        url = settings.PAYMENTS_BREAKER_REDIS_URL or settings.REDIS_URL
        if not url:
            return None
        try:
            allowed, state, wait_ms = _script(url)(keys=[self.key], args=[
                action, settings.PAYMENTS_BREAKER_FAILURE_THRESHOLD,
                int(settings.PAYMENTS_BREAKER_RESET_SECONDS * 1000),
                int(settings.PAYMENTS_BREAKER_PROBE_SECONDS * 1000), _KEY_TTL_SECONDS])
        except redis.RedisError as exc:
            dependency_failed(dependency="redis", component="payments_breaker", error=exc,
                              fallback=f"circuit breaker {self.name} lets provider calls through")
            return None
        return bool(allowed), state.decode() if isinstance(state, bytes) else str(state), int(wait_ms)

    def before_call(self) -> None:
        """Refuse at once while the breaker is open (or a half-open probe is out)."""
        answer = self._run("acquire")
        if answer is None:
            return
        allowed, state, wait_ms = answer
        if not allowed:
            retry_after = max(1, math.ceil(wait_ms / 1000))
            raise PaymentProviderUnavailable(
                f"The payment provider {self.name} is failing; calls are paused for {retry_after}s.",
                retry_after=retry_after, extra={"breaker": state})

    def record_success(self) -> None:
        self._run("success")

    def record_failure(self) -> None:
        answer = self._run("failure")
        if answer is not None and answer[1] == OPEN:
            logger.warning("payments: circuit breaker %s is open", self.name)

    def state(self) -> str:
        answer = self._run("state")
        return CLOSED if answer is None else answer[1]
