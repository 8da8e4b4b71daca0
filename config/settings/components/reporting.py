"""Settings owned by apps.reporting (read from the environment). Star-imported by base.py."""

from config.env import env

# Rows read per query while streaming a CSV export, and events per query while replaying the archive.
REPORTING_EXPORT_BATCH_SIZE = env.int("REPORTING_EXPORT_BATCH_SIZE", default=1000)
REPORTING_REBUILD_BATCH_SIZE = env.int("REPORTING_REBUILD_BATCH_SIZE", default=500)

# Periodic tasks of this module, merged into CELERY_BEAT_SCHEDULE by base.py.
REPORTING_BEAT_SCHEDULE: dict = {
    # Inbox rows older than EVENT_INBOX_RETENTION_DAYS (base settings) are dropped.
    "reporting-inbox-purge": {"task": "reporting.inbox_purge", "schedule": 3600.0},
}
