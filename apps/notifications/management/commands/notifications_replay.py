from django.core.management import BaseCommand, CommandError

from apps.notifications.models import Channel
from apps.notifications.services.replay import deliveries_replay_dead


class Command(BaseCommand):
    help = ("Replay dead deliveries (all, or by id / event type / channel) and take their messages out of "
            "notifications.dead.")

    def add_arguments(self, parser):
        parser.add_argument("--id", dest="ids", type=int, action="append", help="a delivery id (repeatable)")
        parser.add_argument("--event-type")
        parser.add_argument("--channel", choices=Channel.values)

    def handle(self, *args, ids=None, event_type=None, channel=None, **options):
        try:
            replayed = deliveries_replay_dead(delivery_ids=ids, event_type=event_type, channel=channel)
        except Exception as exc:  # report, don't traceback, at the console
            raise CommandError(f"replay failed: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Replayed {replayed} dead deliveries."))
