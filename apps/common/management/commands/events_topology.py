from django.core.management import BaseCommand
from kombu import Connection

from apps.common.messaging.consumers import consumers_registered
from apps.common.messaging.topology import consumers_topology_declare
from config.celery_app import app


class Command(BaseCommand):
    help = ("Declare the domain-events exchange and every registered consumer's queues on the broker. "
            "The release step runs it, so that events published before a consumer's first worker "
            "starts wait in that consumer's queue.")

    def handle(self, *args, **options):
        with Connection(app.conf.broker_write_url or app.conf.broker_url) as connection:
            consumers_topology_declare(connection.default_channel)
        names = ", ".join(consumer.name for consumer in consumers_registered())
        self.stdout.write(f"Declared the events exchange and the queues of: {names}")
