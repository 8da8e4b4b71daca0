"""Settings owned by apps.payments (read from the environment). Star-imported by base.py."""

from config.env import env

# Payment method -> provider adapter ("sandbox" or "http"), e.g. PAYMENTS_PROVIDERS=card=http,wallet=sandbox.
PAYMENTS_PROVIDERS: dict[str, str] = env.dict("PAYMENTS_PROVIDERS", default={"card": "sandbox"})

# The "http" adapter: a processor's REST API. The secret is sent as a bearer token.
PAYMENTS_HTTP_BASE_URL = env("PAYMENTS_HTTP_BASE_URL", default="")
PAYMENTS_HTTP_SECRET = env("PAYMENTS_HTTP_SECRET", default="")
# Seconds to open the connection (nothing was sent if it fails) and to wait for the answer
# (the processor may have acted: the outcome is unknown and reconciliation learns it).
PAYMENTS_HTTP_CONNECT_TIMEOUT = env.float("PAYMENTS_HTTP_CONNECT_TIMEOUT", default=3.05)
PAYMENTS_HTTP_READ_TIMEOUT = env.float("PAYMENTS_HTTP_READ_TIMEOUT", default=10.0)

# Webhook signing secrets per provider (HMAC-SHA256 over "timestamp.body"). An empty secret
# refuses every webhook of that provider.
PAYMENTS_WEBHOOK_SECRETS: dict[str, str] = {
    "sandbox": env("PAYMENTS_SANDBOX_WEBHOOK_SECRET", default=""),
    "http": env("PAYMENTS_HTTP_WEBHOOK_SECRET", default=""),
}
PAYMENTS_WEBHOOK_TOLERANCE_SECONDS = env.int("PAYMENTS_WEBHOOK_TOLERANCE_SECONDS", default=5 * 60)

# Circuit breaker around provider calls, shared by every process through Redis (unset: REDIS_URL;
# without any Redis the breaker lets every call through).
PAYMENTS_BREAKER_REDIS_URL = env("PAYMENTS_BREAKER_REDIS_URL", default="")
PAYMENTS_BREAKER_FAILURE_THRESHOLD = env.int("PAYMENTS_BREAKER_FAILURE_THRESHOLD", default=5)
PAYMENTS_BREAKER_RESET_SECONDS = env.float("PAYMENTS_BREAKER_RESET_SECONDS", default=30.0)
# A half-open probe that has not reported back after this long (its process died) is replaced.
PAYMENTS_BREAKER_PROBE_SECONDS = env.float("PAYMENTS_BREAKER_PROBE_SECONDS", default=30.0)

# An operation still without outcome this long after it was sent is reconciled with the provider.
# Longer than the read timeout, so that no answer can still be on its way.
PAYMENTS_RECONCILE_AFTER_SECONDS = env.int("PAYMENTS_RECONCILE_AFTER_SECONDS", default=60)

# Periodic tasks of this module, merged into CELERY_BEAT_SCHEDULE by base.py.
PAYMENTS_BEAT_SCHEDULE: dict = {
    "payments-reconcile": {"task": "payments.reconcile", "schedule": 60.0},
}
