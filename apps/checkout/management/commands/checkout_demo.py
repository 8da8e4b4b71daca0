from django.core.management import BaseCommand

from apps.checkout.demo import shipping_demo_setup


class Command(BaseCommand):
    help = "Create the demo shipping zones and methods that are missing (make run's storefront flow)."

    def handle(self, *args, **options):
        made = shipping_demo_setup()
        self.stdout.write(f"Shipping: {made} demo methods created" if made else "Shipping: demo methods present")
