"""manage.py catalog_seed --products N: realistic demo data, idempotent, bulk."""

import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import Category, Product, Stock, StockAdjustment
from apps.common.money import money
from tests.catalog.invariants import assert_stock_consistent

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])


def seed(products):
    out = io.StringIO()
    call_command("catalog_seed", products=products, stdout=out)
    return out.getvalue()


def test_seeding_creates_realistic_products_with_categories_prices_and_audited_stock():
    output = seed(200)

    assert "200 products and 8 categories created" in output
    products = list(Product.objects.all())
    assert len(products) == 200
    assert Category.objects.count() == 8
    assert {p.category_id for p in products} <= set(Category.objects.values_list("pk", flat=True))
    assert len({p.name for p in products}) > 100  # varied names
    currencies = Counter(p.currency for p in products)
    assert currencies.most_common(1)[0][0] == "USD" and currencies["USD"] > 150 and len(currencies) >= 3
    for product in products:
        assert money(product.price, product.currency) == product.price > 0  # valid for its currency
    assert Stock.objects.count() == 200
    assert Stock.objects.filter(available=0).exists() and Stock.objects.filter(available__gt=100).exists()
    stocked = {s.product_id: s.stocked for s in Stock.objects.all()}
    audit = dict(StockAdjustment.objects.values_list("product_id", "delta"))
    assert audit == {sku: units for sku, units in stocked.items() if units}
    assert_stock_consistent("DEMO-000001", stocked=stocked["DEMO-000001"])


def test_seeding_again_duplicates_nothing_and_grows_to_a_larger_n():
    seed(30)
    first = {p.sku: (p.name, p.price, p.currency) for p in Product.objects.all()}

    again = seed(30)
    grown = seed(40)

    assert "0 products and 0 categories created" in again
    assert "10 products and 0 categories created" in grown
    assert Product.objects.count() == Stock.objects.count() == 40
    assert {p.sku: (p.name, p.price, p.currency) for p in Product.objects.filter(sku__in=first)} == first


def test_ten_thousand_products_are_seeded_in_bulk():
    with CaptureQueriesContext(connections["catalog"]) as queries:
        seed(10_000)

    assert Product.objects.count() == Stock.objects.count() == 10_000
    assert len(queries) < 100  # batches of inserts and existence checks, never one query per product


def test_a_negative_count_is_refused():
    with pytest.raises(CommandError):
        seed(-1)


def test_demo_products_have_realistic_weights_and_books_and_groceries_are_taxed_at_the_reduced_rate(api_client):
    seed(200)

    products = list(Product.objects.all())
    assert all(Decimal("0.02") <= p.weight <= Decimal("5") for p in products)
    assert len({p.weight for p in products}) > 50  # varied, not one default
    reduced = {p.sku for p in products if p.tax_class == "reduced"}
    assert reduced == {p.sku for p in products if p.category_id in ("books", "grocery")} != set()
    assert {p.tax_class for p in products} == {"standard", "reduced"}
    book = next(p for p in products if p.category_id == "books")
    shown = api_client.get(f"/api/v1/products/{book.sku}/").json()
    assert (shown["tax_class"], Decimal(shown["weight"])) == ("reduced", book.weight)
