import datetime as dt

from celery import shared_task
from django.conf import settings

from apps.reporting.services.consumer import reporting_inbox_purge


@shared_task(name="reporting.inbox_purge", ignore_result=True)
def inbox_purge() -> int:
    """Drop reporting inbox rows past EVENT_INBOX_RETENTION_DAYS (0 keeps them)."""
    if settings.EVENT_INBOX_RETENTION_DAYS <= 0:
        return 0
    return reporting_inbox_purge(older_than=dt.timedelta(days=settings.EVENT_INBOX_RETENTION_DAYS))
