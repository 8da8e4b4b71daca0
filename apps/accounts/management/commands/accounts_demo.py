from django.conf import settings
from django.core.management import BaseCommand

from apps.accounts.demo import demo_customer


class Command(BaseCommand):
    help = "Make sure the demo customer exists (verified, with an address); print its credentials and a new token."

    def handle(self, *args, **options):
        demo = demo_customer(credentials=settings.VAR_DIR / "customer-credentials.txt")
        self.stdout.write(self.style.SUCCESS(f"Customer: {demo.email}  password: {demo.password}"))
        until = f"{demo.issued.expiry:%Y-%m-%d %H:%M} UTC"
        header = f"Authorization: Bearer {demo.issued.token}"
        self.stdout.write(self.style.SUCCESS(f"Customer token (until {until}): {header}"))
