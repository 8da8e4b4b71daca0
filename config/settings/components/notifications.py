"""Settings owned by apps.notifications (read from the environment). Star-imported by base.py."""

from config.env import env

# The event types the notifications consumer binds its queue to (AMQP topic patterns).
# A webhook endpoint can only subscribe to types these patterns cover.
NOTIFICATIONS_EVENT_BINDINGS = env.list("NOTIFICATIONS_EVENT_BINDINGS", default=["orders.#", "payments.#",
                                                                                  "accounts.#"])
# Event types that carry a secret for one person (a verification or reset link): they are emailed
# to that person only, never handed to a webhook endpoint, whatever it subscribes to. Not from the
# environment: no deployment should be able to open them up.
NOTIFICATIONS_PRIVATE_EVENT_TYPES = ("accounts.#",)
NOTIFICATIONS_SHOP_NAME = env("NOTIFICATIONS_SHOP_NAME", default="Commerce")
# Sender of notification email ("" -> DEFAULT_FROM_EMAIL); staff who get operational email.
NOTIFICATIONS_FROM_EMAIL = env("NOTIFICATIONS_FROM_EMAIL", default="")
NOTIFICATIONS_STAFF_EMAILS = env.list("NOTIFICATIONS_STAFF_EMAILS", default=[])

# Retries: attempt n waits about min(max, base * 2**(n-1)) seconds (jittered); a 429's Retry-After
# is honoured up to NOTIFICATIONS_RETRY_AFTER_MAX_SECONDS. After MAX_ATTEMPTS the delivery is dead.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=8)
NOTIFICATIONS_BACKOFF_BASE_SECONDS = env.float("NOTIFICATIONS_BACKOFF_BASE_SECONDS", default=15.0)
NOTIFICATIONS_BACKOFF_MAX_SECONDS = env.float("NOTIFICATIONS_BACKOFF_MAX_SECONDS", default=3600.0)
NOTIFICATIONS_RETRY_AFTER_MAX_SECONDS = env.int("NOTIFICATIONS_RETRY_AFTER_MAX_SECONDS", default=3600)
# A delivery claimed by a worker that went silent this long is taken over by another attempt.
NOTIFICATIONS_CLAIM_LEASE_SECONDS = env.int("NOTIFICATIONS_CLAIM_LEASE_SECONDS", default=120)
# The sweep re-enqueues deliveries whose task message is this late (lost publish, broker outage).
NOTIFICATIONS_RESUME_GRACE_SECONDS = env.int("NOTIFICATIONS_RESUME_GRACE_SECONDS", default=900)

NOTIFICATIONS_EMAIL_TIMEOUT_SECONDS = env.float("NOTIFICATIONS_EMAIL_TIMEOUT_SECONDS", default=10.0)

# SMS: "console" (writes to stdout) or "http" (POST {"to", "body"} to the gateway URL).
NOTIFICATIONS_SMS_BACKEND = env("NOTIFICATIONS_SMS_BACKEND", default="console")
NOTIFICATIONS_SMS_GATEWAY_URL = env("NOTIFICATIONS_SMS_GATEWAY_URL", default="")
NOTIFICATIONS_SMS_GATEWAY_TOKEN = env("NOTIFICATIONS_SMS_GATEWAY_TOKEN", default="")
NOTIFICATIONS_SMS_TIMEOUT_SECONDS = env.float("NOTIFICATIONS_SMS_TIMEOUT_SECONDS", default=10.0)

NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS = env.float("NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# A connection to a webhook receiver idle longer than this is not reused: it must be shorter than
# the receivers' own keep-alive (often 2-5 s), or a send may go out on a connection they closed.
NOTIFICATIONS_WEBHOOK_KEEPALIVE_SECONDS = env.float("NOTIFICATIONS_WEBHOOK_KEEPALIVE_SECONDS", default=1.0)
# Networks a webhook URL may resolve to although they are not public (CIDRs). Empty in
# production: loopback, private, link-local, multicast and reserved addresses are refused.
NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS = env.list("NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS", default=[])
# After a secret rotation the old secret keeps signing (both signatures are sent) this long.
NOTIFICATIONS_WEBHOOK_SECRET_GRACE_HOURS = env.int("NOTIFICATIONS_WEBHOOK_SECRET_GRACE_HOURS", default=24)
# An endpoint is disabled (and its owner emailed) once it has failed this many attempts in a row
# AND has been failing for this long.
NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_FAILURES = env.int("NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_FAILURES", default=50)
NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_HOURS = env.float("NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_HOURS", default=72.0)

# Periodic tasks of this module, merged into CELERY_BEAT_SCHEDULE by base.py.
NOTIFICATIONS_BEAT_SCHEDULE: dict = {
    "notifications-deliveries-resume": {"task": "notifications.deliveries_resume", "schedule": 60.0},
    "notifications-inbox-purge": {"task": "notifications.inbox_purge", "schedule": 6 * 3600.0},
}
