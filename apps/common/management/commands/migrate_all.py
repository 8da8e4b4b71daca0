from django.conf import settings
from django.core.management import BaseCommand, call_command


class Command(BaseCommand):
    help = "Apply migrations on every database alias (the router decides what goes where)."

    def handle(self, *args, **options):
        for alias in settings.DATABASES:
            self.stdout.write(f"Migrating alias {alias!r}")
            call_command("migrate", database=alias, interactive=False, verbosity=options["verbosity"])
