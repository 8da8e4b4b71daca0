"""The suite runs against the real services that scripts/services.sh starts on loopback."""

from config.env import database_from_url
from config.settings.base import *  # noqa: F403
from config.settings.base import ACCOUNTS_THROTTLE_RATES, CACHES, env

SECRET_KEY = env("SECRET_KEY", default="test-only-not-secret")
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

_PG = "postgres://commerce:commerce@127.0.0.1:54320"
DATABASES = {
    "default": database_from_url(env("DATABASE_URL", default=f"{_PG}/commerce")),
    "catalog": database_from_url(env("CATALOG_DATABASE_URL", default=f"{_PG}/commerce_catalog")),
    "reporting": database_from_url(env("REPORTING_DATABASE_URL", default=f"{_PG}/commerce_reporting")),
}
# Concurrency tests race dozens of threads in one process: a bigger pool per alias.
for _config in DATABASES.values():
    if "pool" in _config.get("OPTIONS", {}):
        _config["OPTIONS"]["pool"]["max_size"] = env.int("DB_POOL_MAX_SIZE", default=60)
# Parallel runs on one PostgreSQL server each need their own test databases.
if _suffix := env("TEST_DB_SUFFIX", default=""):
    for _config in DATABASES.values():
        _config["TEST"] = {"NAME": f"test_{_config['NAME']}_{_suffix}"}
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:63790/0")
CACHES = {**CACHES}
CACHES["default"] = {
    "BACKEND": "apps.common.cache.RedisCache",
    "LOCATION": REDIS_URL,
    "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="commerce-test"),
    "OPTIONS": {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        "SOCKET_CONNECT_TIMEOUT": 1,
        "SOCKET_TIMEOUT": 1,
        "IGNORE_EXCEPTIONS": True,
    },
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="amqp://commerce:commerce@127.0.0.1:56720/commerce")
# Tests call tasks in-process unless they start a real worker; the broker is still real.
CELERY_TASK_ALWAYS_EAGER = True
# The account flows' own rate limits are off; tests of them set ACCOUNTS_THROTTLE_RATES.
ACCOUNTS_THROTTLE_RATES = dict.fromkeys(ACCOUNTS_THROTTLE_RATES)
