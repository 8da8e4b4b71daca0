from django.core.management import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from apps.common.roles import ROLES, roles_sync


class Command(BaseCommand):
    help = "Create the staff role groups and give each exactly its permissions (apps.common.roles)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, database, **options):
        roles_sync(using=database)
        self.stdout.write(f"Roles in sync: {', '.join(ROLES)}.")
