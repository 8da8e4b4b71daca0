"""Settings shared by every environment. Everything that differs lives in the environment."""

from pathlib import Path

from kombu import Exchange, Queue

from config.env import BASE_DIR, database_from_url, env

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "knox",  # customer Bearer tokens, stored hashed (apps.accounts)
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files, no CDN
    "apps.common",
    "apps.accounts",
    "apps.catalog",
    "apps.orders",
    "apps.payments",
    "apps.notifications",
    "apps.reporting",
    "apps.checkout",
    "apps.pricing",
]

MIDDLEWARE = [
    "apps.common.observability.logs.RequestIdMiddleware",
    "apps.common.observability.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.common.http.backpressure.RequestLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases: one alias per module family; the router maps app label -> alias. ---
DATABASES = {
    "default": database_from_url(env("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'default.sqlite3'}")),
    "catalog": database_from_url(
        env("CATALOG_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'catalog.sqlite3'}")
    ),
    "reporting": database_from_url(
        env("REPORTING_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'reporting.sqlite3'}")
    ),
}
DATABASE_APPS_ALIAS = {"catalog": "catalog", "reporting": "reporting"}
DATABASE_ROUTERS = ["config.db_routers.ModuleRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when REDIS_URL is set, else process-local memory. ---
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "apps.common.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="commerce"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                # A dead Redis degrades to the database instead of failing the request.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# A dependency the API works around (Redis) logs its failures at most once per interval per
# process; dependency_failures_total counts every one (apps.common.observability.degraded).
DEGRADED_LOG_INTERVAL_SECONDS = env.float("DEGRADED_LOG_INTERVAL_SECONDS", default=60.0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # A token first so that an anonymous API call gets 401 with WWW-Authenticate, not 403.
        # Customers: "Authorization: Bearer <token>" (django-rest-knox, stored as a SHA-512 digest).
        "knox.auth.TokenAuthentication",
        # Staff and integrations: "Authorization: Token <key>" (DRF authtoken, made in the admin).
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # A JSON API: form and multipart bodies cannot carry the nested lines and lists the
    # serializers expect, so they get 415 instead of half-parsed data (and the schema says so).
    # apps.common.http.parsers.JSONParser is DRF's with a nesting limit (API_MAX_JSON_DEPTH).
    "DEFAULT_PARSER_CLASSES": ["apps.common.http.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.common.http.pagination.CursorPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_SCHEMA_CLASS": "apps.common.http.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.common.http.problems.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.common.http.throttling.AnonThrottle",
        "apps.common.http.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="120/minute"),
        "user": env("THROTTLE_USER", default="600/minute"),
    },
    # How many proxies stand in front of the web process: the client address that the throttles
    # count (and sign-in logs) is taken that many hops back in X-Forwarded-For. 0 (the default):
    # REMOTE_ADDR, so that a client cannot pick its own address by sending X-Forwarded-For.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Commerce API",
    "DESCRIPTION": "Orders, payments, catalog, notifications and reporting.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The docs page loads pinned Swagger UI (and Redoc) assets from our static files: it works
    # offline and shows the version we tested, not whatever a CDN serves as @latest.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies get components of their own, so they can say what only input must satisfy
    # (a required string is not blank: minLength 1) without constraining what responses show.
    "COMPONENT_SPLIT_REQUEST": True,
    # Several modules have a `status`; name each enum after its entity.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "apps.orders.models.Order.Status",
        "PaymentStatusEnum": "apps.payments.models.Payment.Status",
        "RefundStatusEnum": "apps.payments.models.Refund.Status",
        "DeliveryStatusEnum": "apps.notifications.models.Delivery.Status",
        "StockAdjustmentStatusEnum": "apps.catalog.models.StockAdjustment.Status",
        "ReservationStatusEnum": "apps.catalog.models.Reservation.Status",
        "PaymentReportStatusEnum": "apps.reporting.models.PaymentReport.Status",
        "CartStatusEnum": "apps.checkout.models.Cart.Status",
        "PromotionKindEnum": ["percentage", "fixed_amount", "free_shipping"],  # apps.pricing.types.PromotionKind
    },
}

# --- Celery: at-least-once delivery on RabbitMQ quorum queues with a dead-letter exchange. ---
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every connection, and in prefork children the whole pool, around
# each task unless told to reuse them; then every task paid a new PostgreSQL connection. It now
# recycles them every N tasks, and config.celery_app hands connections back to the pool (dropping
# broken ones) around each task, as Django does around each request.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_DEAD_LETTER_EXCHANGE = "dead-letter"
CELERY_TASK_DEFAULT_QUEUE = "default"


def _work_queue(name: str, exchange_type: str = "direct") -> Queue:
    """A durable quorum queue whose rejected messages dead-letter to "<name>.dead"."""
    return Queue(
        name,
        Exchange(name, type=exchange_type, durable=True),
        routing_key=name,
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": CELERY_DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": name,
        },
    )


CELERY_TASK_QUEUES = [
    _work_queue("default"),
    # A topic exchange: Celery's native delayed delivery (countdown retries on quorum queues)
    # routes through topic exchanges only; on a direct one the worker would hold the message.
    _work_queue("notifications", exchange_type="topic"),
]
CELERY_TASK_ROUTES = {"notifications.deliver": {"queue": "notifications"}}
# Dead letters of each work queue land in "<queue>.dead" (declared by config.celery_app).
CELERY_DEAD_LETTER_QUEUES = ["default", "notifications"]
CELERY_IMPORTS = ["apps.common.messaging.relay"]

# --- Domain events: the outbox relay publishes to one topic exchange, routing key = event type;
# each consumer binds its own quorum queue "<consumer>.events" (apps.common.messaging.consumers). ---
EVENTS_EXCHANGE = env("EVENTS_EXCHANGE", default="domain-events")
OUTBOX_RELAY_BATCH_SIZE = env.int("OUTBOX_RELAY_BATCH_SIZE", default=100)
OUTBOX_RELAY_SWEEP_SECONDS = env.float("OUTBOX_RELAY_SWEEP_SECONDS", default=5.0)
# Connect and publisher-confirm timeout: past it the row stays pending for the next pass.
OUTBOX_PUBLISH_TIMEOUT_SECONDS = env.float("OUTBOX_PUBLISH_TIMEOUT_SECONDS", default=5.0)
# Published events stay as the archive (read models are rebuilt from it) this long; 0 keeps them.
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=90)
# A consumer whose handler fails parks the event in "<consumer>.events.retry" for the delay, then
# gets it back; after MAX_ATTEMPTS it is dead-lettered to "<consumer>.events.dead".
EVENT_CONSUMER_RETRY_DELAY_SECONDS = env.int("EVENT_CONSUMER_RETRY_DELAY_SECONDS", default=30)
EVENT_CONSUMER_MAX_ATTEMPTS = env.int("EVENT_CONSUMER_MAX_ATTEMPTS", default=10)
# A message whose consumer keeps dying while handling it (redelivered this often) is dead-lettered.
EVENT_CONSUMER_DELIVERY_LIMIT = env.int("EVENT_CONSUMER_DELIVERY_LIMIT", default=10)
EVENT_CONSUMER_PREFETCH = env.int("EVENT_CONSUMER_PREFETCH", default=10)
# Inbox rows (redelivery dedupe) are kept this long; 0 keeps them.
EVENT_INBOX_RETENTION_DAYS = env.int("EVENT_INBOX_RETENTION_DAYS", default=30)

# --- Idempotency-Key: kept at least this long; a claim older than the lock timeout is stale. ---
IDEMPOTENCY_KEY_RETENTION_HOURS = env.int("IDEMPOTENCY_KEY_RETENTION_HOURS", default=24)
IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = env.int("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", default=300)

# --- Logging: JSON lines on stdout (12-factor), secrets redacted from every record. ---
LOG_FORMAT = env("LOG_FORMAT", default="json")  # json | plain
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "apps.common.observability.logs.RedactingFilter"}},
    "formatters": {
        "json": {"()": "apps.common.observability.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Django gives "django" (under DEBUG) and "django.server" handlers of their own: their records
    # printed twice, or once unredacted. Every record goes through the root's handler alone.
    "loggers": {
        "django": {"handlers": [], "level": "NOTSET", "propagate": True},
        "django.server": {"handlers": [], "level": "NOTSET", "propagate": True},
    },
}

# --- Telemetry ---
TELEMETRY_ENABLED = env.bool("TELEMETRY_ENABLED", default=True)
# Statement spans (each SQL statement, MongoDB and Redis command): all | sampled | off. Sampled
# keeps every statement of OTEL_SQL_SPANS_RATIO of the traces; request and task spans are kept
# whatever this says. README, Performance (S7) has what each costs.
OTEL_SQL_SPANS = env("OTEL_SQL_SPANS", default="sampled")
OTEL_SQL_SPANS_RATIO = env.float("OTEL_SQL_SPANS_RATIO", default=0.1)
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Queues whose depth /metrics reports (absent ones are skipped).
METRICS_QUEUES = env.list("METRICS_QUEUES", default=["default", "default.dead", "notifications",
                                                     "notifications.dead"])

# --- Backpressure and request limits ---
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
# JSON bodies nested deeper than this are malformed (400): a few KB of brackets would otherwise
# exhaust the parser's recursion.
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=64)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
BACKPRESSURE_WRITE_PATHS = env.list("BACKPRESSURE_WRITE_PATHS", default=["/api/v1/orders/", "/api/v1/payments/"])
BACKPRESSURE_OUTBOX_LIMIT = env.int("BACKPRESSURE_OUTBOX_LIMIT", default=10_000)
BACKPRESSURE_QUEUES = env.list("BACKPRESSURE_QUEUES", default=["notifications"])
BACKPRESSURE_QUEUE_LIMIT = env.int("BACKPRESSURE_QUEUE_LIMIT", default=10_000)
BACKPRESSURE_CHECK_INTERVAL_SECONDS = env.float("BACKPRESSURE_CHECK_INTERVAL_SECONDS", default=2.0)
BACKPRESSURE_RETRY_AFTER_SECONDS = env.int("BACKPRESSURE_RETRY_AFTER_SECONDS", default=5)

# --- Per-module settings (config/settings/components/<app>.py) ---
from config.settings.components.accounts import *  # noqa: E402, F403
from config.settings.components.catalog import *  # noqa: E402, F403
from config.settings.components.checkout import *  # noqa: E402, F403
from config.settings.components.notifications import *  # noqa: E402, F403
from config.settings.components.orders import *  # noqa: E402, F403
from config.settings.components.payments import *  # noqa: E402, F403
from config.settings.components.pricing import *  # noqa: E402, F403
from config.settings.components.reporting import *  # noqa: E402, F403

CELERY_BEAT_SCHEDULE = {
    "idempotency-keys-purge": {"task": "common.idempotency_keys_purge", "schedule": 3600.0},
    "outbox-relay-sweep": {"task": "common.outbox_relay", "schedule": OUTBOX_RELAY_SWEEP_SECONDS},
    "outbox-archive-purge": {"task": "common.outbox_purge", "schedule": 3600.0},
    **CATALOG_BEAT_SCHEDULE,  # noqa: F405
    **CHECKOUT_BEAT_SCHEDULE,  # noqa: F405
    **PAYMENTS_BEAT_SCHEDULE,  # noqa: F405
    **ORDERS_BEAT_SCHEDULE,  # noqa: F405
    **NOTIFICATIONS_BEAT_SCHEDULE,  # noqa: F405
    **REPORTING_BEAT_SCHEDULE,  # noqa: F405
}
# Where beat keeps its schedule state (a file in the working directory by default).
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", default="celerybeat-schedule")
