from django.core.management import BaseCommand, CommandError

from apps.catalog.demo import catalog_seed


class Command(BaseCommand):
    help = "Create N realistic demo products (DEMO-000001..N) with categories and stock. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=50, help="How many demo products should exist.")

    def handle(self, *args, products: int, **options):
        if products < 0:
            raise CommandError("--products must not be negative.")
        report = catalog_seed(products=products)
        self.stdout.write(self.style.SUCCESS(
            f"Catalog: {report.products} products and {report.categories} categories created "
            f"({products} demo products exist)."))
