"""Settings owned by apps.catalog (read from the environment). Star-imported by base.py."""

from config.env import env  # noqa: F401

# Periodic tasks of this module, merged into CELERY_BEAT_SCHEDULE by base.py.
CATALOG_BEAT_SCHEDULE: dict = {}
