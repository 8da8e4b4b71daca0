import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command, get_commands


class Command(BaseCommand):
    help = "Load demo data and make sure a staff user exists; print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--products", type=int, default=50)

    def handle(self, *args, username, products, **options):
        if "catalog_seed" in get_commands():
            call_command("catalog_seed", products=products)
        credentials = settings.VAR_DIR / "staff-credentials.txt"
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None or not credentials.exists():
            password = secrets.token_urlsafe(12)
            user = user or User(username=username, email=f"{username}@example.com")
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            credentials.parent.mkdir(parents=True, exist_ok=True)
            credentials.write_text(f"{username} {password}\n")
            credentials.chmod(0o600)
        name, password = credentials.read_text().split()
        self.stdout.write(self.style.SUCCESS(f"Staff user: {name}  password: {password}"))
