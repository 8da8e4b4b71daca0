"""Settings owned by apps.notifications (read from the environment). Star-imported by base.py."""

from config.env import env  # noqa: F401

# Periodic tasks of this module, merged into CELERY_BEAT_SCHEDULE by base.py.
NOTIFICATIONS_BEAT_SCHEDULE: dict = {}
