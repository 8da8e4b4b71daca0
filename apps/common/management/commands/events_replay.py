import datetime as dt

from django.core.management import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from apps.common.messaging.consumers import consumers_registered
from apps.common.messaging.replay import archive_reapply, rejected_events_replay


class Command(BaseCommand):
    help = ("Apply events again after the cause of their rejection is fixed: every rejected event "
            "(admin: Rejected events), or with --from-archive every archived event since --since "
            "that the consumer never applied (its inbox skips the ones it did).")

    def add_arguments(self, parser):
        parser.add_argument("--consumer", help="Only this consumer (required with --from-archive).")
        parser.add_argument("--type", dest="event_type", help="Only rejected events of this type.")
        parser.add_argument("--from-archive", action="store_true",
                            help="Offer the published outbox archive to the consumer instead.")
        parser.add_argument("--since", help="With --from-archive: ISO date or datetime to start from (keep it "
                                            "within EVENT_INBOX_RETENTION_DAYS).")

    def handle(self, *args, consumer=None, event_type=None, from_archive=False, since=None, **options):
        names = [registered.name for registered in consumers_registered()]
        if consumer and consumer not in names:
            raise CommandError(f"unknown consumer {consumer!r}; registered: {', '.join(names)}")
        if from_archive:
            if not consumer or not since:
                raise CommandError("--from-archive needs --consumer and --since")
            start = parse_datetime(since) or parse_datetime(f"{since}T00:00:00+00:00")
            if start is None:
                raise CommandError(f"--since {since!r} is not an ISO date or datetime")
            if start.tzinfo is None:
                start = start.replace(tzinfo=dt.UTC)
            counts = archive_reapply(consumer=consumer, since=start)
        else:
            counts = rejected_events_replay(consumer=consumer, event_type=event_type)
        self.stdout.write(", ".join(f"{count} {outcome.value}" for outcome, count in counts.items()))
