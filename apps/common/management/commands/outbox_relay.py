import time

from django.core.management import BaseCommand

from apps.common.messaging.relay import BrokerPublisher, InProcessPublisher, outbox_relay


class Command(BaseCommand):
    help = ("Publish pending outbox events now (one pass), or keep relaying with --every SECONDS "
            "(an alternative to the beat sweep).")

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0.0, help="repeat every N seconds until interrupted")
        parser.add_argument("--in-process", action="store_true",
                            help="hand events to the registered consumers in this process instead of RabbitMQ")
        parser.add_argument("--database", default="default")

    def handle(self, *args, every, in_process, database, **options):
        publisher = InProcessPublisher() if in_process else BrokerPublisher()
        while True:
            report = outbox_relay(using=database, publisher=publisher)
            if report.published or report.failed or not every:
                self.stdout.write(f"published {report.published}" + (f", failed: {report.last_error}"
                                                                      if report.failed else ""))
            if not every:
                return
            time.sleep(every)
