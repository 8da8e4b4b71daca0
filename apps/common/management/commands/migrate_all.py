from django.conf import settings
from django.core.management import BaseCommand, call_command


class Command(BaseCommand):
    help = "Apply migrations on every database alias (the router decides what goes where)."

    def add_arguments(self, parser):
        # The Procfile's release step passes it, as it would to `migrate`; this never prompts anyway.
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                            help="Accepted for symmetry with migrate: no question is ever asked.")

    def handle(self, *args, **options):
        for alias in settings.DATABASES:
            self.stdout.write(f"Migrating alias {alias!r}")
            call_command("migrate", database=alias, interactive=False, verbosity=options["verbosity"])
