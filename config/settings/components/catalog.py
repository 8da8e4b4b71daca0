"""Settings owned by apps.catalog (read from the environment). Star-imported by base.py."""

from config.env import env

# Cached reads on or off (off: every read goes to the database; the benchmarks' S3 uses it).
CATALOG_CACHE_ENABLED = env.bool("CATALOG_CACHE_ENABLED", default=True)
# Cached reads (apps/catalog/cache.py): how long a product detail and a list page live in Redis.
# Writes invalidate at once; the TTL only bounds staleness after writes made while Redis was down.
CATALOG_CACHE_DETAIL_SECONDS = env.int("CATALOG_CACHE_DETAIL_SECONDS", default=300)
CATALOG_CACHE_LIST_SECONDS = env.int("CATALOG_CACHE_LIST_SECONDS", default=60)
# Stampede guard: one request rebuilds a cold key under a lock held at most this long; the
# others wait at most CATALOG_CACHE_WAIT_SECONDS for its result, then read the database.
CATALOG_CACHE_LOCK_SECONDS = env.int("CATALOG_CACHE_LOCK_SECONDS", default=5)
CATALOG_CACHE_WAIT_SECONDS = env.float("CATALOG_CACHE_WAIT_SECONDS", default=2.0)
# After Redis failed, reads of this process go straight to the database this long (writes still
# try to invalidate every time).
CATALOG_CACHE_RETRY_SECONDS = env.float("CATALOG_CACHE_RETRY_SECONDS", default=5.0)

# A reservation (or stock adjustment) whose writer has not finished after this long is taken as
# abandoned (its process died): the sweeper settles it and recomputes the SKU's counters.
# Far longer than any request, so that a slow writer is never mistaken for a dead one.
CATALOG_SETTLE_GRACE_SECONDS = env.int("CATALOG_SETTLE_GRACE_SECONDS", default=120)
# stock_reserve finding the same order's line mid-write by another call waits this long for it.
CATALOG_RESERVE_WAIT_SECONDS = env.float("CATALOG_RESERVE_WAIT_SECONDS", default=2.0)
# Rows the sweeper handles per run (it runs every minute).
CATALOG_SWEEP_BATCH = env.int("CATALOG_SWEEP_BATCH", default=500)

# Periodic tasks of this module, merged into CELERY_BEAT_SCHEDULE by base.py.
CATALOG_BEAT_SCHEDULE: dict = {
    "catalog-reservations-sweep": {"task": "catalog.reservations_sweep", "schedule": 60.0},
}
