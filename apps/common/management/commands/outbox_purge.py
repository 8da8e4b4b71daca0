import datetime as dt

from django.core.management import BaseCommand

from apps.common.messaging.relay import outbox_purge


class Command(BaseCommand):
    help = "Delete published outbox events older than OUTBOX_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)
        parser.add_argument("--database", default="default")

    def handle(self, *args, days, database, **options):
        older_than = dt.timedelta(days=days) if days is not None else None
        deleted = outbox_purge(using=database, older_than=older_than)
        self.stdout.write(f"deleted {deleted} published events")
