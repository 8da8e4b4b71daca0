from django.core.management import BaseCommand

from apps.pricing.demo import DEMO_VOUCHER, pricing_demo_setup


class Command(BaseCommand):
    help = ("Create the demo tax rates (DE 19/7 %, FR 20/5.5 %, US-CA 7.25 %) and the demo voucher "
            f"{DEMO_VOUCHER} (10 % off, 100 uses) that are missing (make run's storefront flow).")

    def handle(self, *args, **options):
        made = pricing_demo_setup()
        self.stdout.write(f"Taxes: {made.rates} demo rates created" if made.rates else "Taxes: demo rates present")
        self.stdout.write(f"Promotions: voucher {DEMO_VOUCHER} " + ("created" if made.voucher else "present"))
