import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import BaseCommand, call_command, get_commands

from apps.common.roles import ROLES, roles_sync


def role_username(role: str) -> str:
    """The demo user of a role: "Order handler" -> "order-handler"."""
    return role.lower().replace(" ", "-")


class Command(BaseCommand):
    help = ("Load demo data and make sure a staff user (superuser), one staff user per role and a demo "
            "customer exist; print their credentials (and a token for the customer).")

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--products", type=int, default=50)

    def handle(self, *args, username, products, **options):
        if "catalog_seed" in get_commands():
            call_command("catalog_seed", products=products)
        if "checkout_demo" in get_commands():  # shipping zones and methods, so that a cart can complete
            call_command("checkout_demo", stdout=self.stdout)
        if "pricing_demo" in get_commands():  # tax rates and the WELCOME10 voucher
            call_command("pricing_demo", stdout=self.stdout)
        credentials = settings.VAR_DIR / "staff-credentials.txt"
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None or not credentials.exists():
            password = secrets.token_urlsafe(12)
            user = user or User(username=username, email=f"{username}@example.com")
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            _write_private(credentials, f"{username} {password}\n")
        name, password = credentials.read_text().split()
        self.stdout.write(self.style.SUCCESS(f"Staff user: {name}  password: {password}"))
        if "accounts_demo" in get_commands():  # a demo customer with a token (before the roles: they end the output)
            call_command("accounts_demo", stdout=self.stdout)
        self._role_users()

    def _role_users(self):
        """One staff user per role, each holding that role alone (var/role-credentials.txt)."""
        roles_sync()
        credentials = settings.VAR_DIR / "role-credentials.txt"
        known = dict(line.split() for line in credentials.read_text().splitlines()) if credentials.exists() else {}
        User = get_user_model()
        for role in ROLES:
            name = role_username(role)
            user = User.objects.filter(username=name).first()
            if user is None or name not in known:
                known[name] = secrets.token_urlsafe(12)
                user = user or User(username=name, email=f"{name}@example.com")
                user.is_staff, user.is_superuser = True, False
                user.set_password(known[name])
                user.save()
            user.groups.set([Group.objects.get(name=role)])
            self.stdout.write(self.style.SUCCESS(f"{role}: {name}  password: {known[name]}"))
        _write_private(credentials, "".join(f"{name} {password}\n" for name, password in known.items()))


def _write_private(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
