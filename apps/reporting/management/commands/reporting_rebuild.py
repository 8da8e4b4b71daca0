from django.conf import settings
from django.core.management.base import BaseCommand

from apps.reporting.services.rebuild import reporting_rebuild


class Command(BaseCommand):
    help = ("Empty the reporting projections and their inbox, then replay every order and payment event of the "
            "outbox archive (published or still pending), oldest first.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=settings.REPORTING_REBUILD_BATCH_SIZE,
                            help="Events read from the archive per query.")

    def handle(self, *args, batch_size: int, **options):
        result = reporting_rebuild(batch_size=batch_size)
        self.stdout.write(self.style.SUCCESS(
            f"Rebuilt the reporting projections: {result.replayed} events replayed, {result.applied} applied, "
            f"{result.invalid} invalid (skipped)."))
