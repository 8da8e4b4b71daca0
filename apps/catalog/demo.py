"""Demo data: realistic products, generated deterministically from their index (the same index
always gives the same product), and the seeding that writes them, repeatably and idempotently."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

from apps.catalog.cache import catalog_cache_invalidate
from apps.catalog.models import Category, Product, Stock, StockAdjustment
from apps.catalog.services.clock import catalog_now
from apps.catalog.types import DEFAULT_TAX_CLASS

CATEGORIES: dict[str, str] = {
    "books": "Books",
    "electronics": "Electronics",
    "home-kitchen": "Home & Kitchen",
    "garden": "Garden",
    "toys": "Toys & Games",
    "sports": "Sports & Outdoors",
    "beauty": "Beauty",
    "grocery": "Grocery",
}

# (noun, typical shipping weight in grams) pairs, price range in USD
_ITEMS: dict[str, tuple[tuple[tuple[str, int], ...], tuple[int, int]]] = {
    "books": ((("Cookbook", 900), ("Novel", 400), ("Atlas", 1500), ("Field Guide", 500), ("Notebook", 250),
               ("Poetry Collection", 300), ("Biography", 700)), (8, 45)),
    "electronics": ((("Headphones", 300), ("USB-C Charger", 150), ("Bluetooth Speaker", 600), ("Power Bank", 350),
                     ("Webcam", 200), ("Keyboard", 800), ("Wireless Mouse", 120), ("Smart Plug", 100)), (12, 320)),
    "home-kitchen": ((("Chef's Knife", 300), ("Cast Iron Pan", 2800), ("French Press", 700), ("Cutting Board", 1200),
                      ("Tea Kettle", 1100), ("Linen Towel Set", 600), ("Salad Bowl", 900)), (9, 180)),
    "garden": ((("Pruning Shears", 300), ("Watering Can", 800), ("Seed Kit", 200), ("Garden Gloves", 150),
                ("Planter", 1500), ("Hose Reel", 2600)), (6, 140)),
    "toys": ((("Puzzle", 600), ("Building Blocks", 1200), ("Board Game", 1300), ("Plush Bear", 400), ("Kite", 250),
              ("Wooden Train", 900)), (7, 90)),
    "sports": ((("Yoga Mat", 1200), ("Water Bottle", 350), ("Running Cap", 100), ("Jump Rope", 250),
                ("Dumbbell Pair", 4000), ("Trail Backpack", 1100)), (8, 160)),
    "beauty": ((("Face Cream", 150), ("Shampoo", 450), ("Lip Balm", 30), ("Hand Soap", 350), ("Body Lotion", 400),
                ("Beard Oil", 100)), (4, 60)),
    "grocery": ((("Olive Oil", 1100), ("Coffee Beans", 550), ("Dark Chocolate", 120), ("Green Tea", 150),
                 ("Honey", 550), ("Pasta", 520)), (2, 35)),
}
# Books and food are taxed at a reduced rate in most countries that have one (pricing's "reduced" class).
_REDUCED_RATE_CATEGORIES = frozenset({"books", "grocery"})
_ADJECTIVES = ("Classic", "Compact", "Deluxe", "Everyday", "Organic", "Premium", "Recycled", "Travel", "Vintage",
               "Ultra", "Handmade", "Nordic")
_BRANDS = ("Acme", "Northwind", "Fjord", "Lumen", "Oakridge", "Pebble", "Solstice", "Tidewater", "Verde", "Zephyr")
_COLORS = ("black", "white", "graphite", "navy", "sage", "terracotta", "sand", "red")
# Mostly one currency (what the benchmarks order in), a few others (JPY has no minor unit).
_CURRENCIES = (("USD", Decimal(1), 85), ("EUR", Decimal("0.92"), 8), ("GBP", Decimal("0.79"), 5),
               ("JPY", Decimal(150), 2))


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    description: str
    category: str
    price: Decimal
    currency: str
    weight: Decimal  # kilograms
    tax_class: str
    attributes: dict
    units: int


def demo_sku(index: int) -> str:
    return f"DEMO-{index:06d}"


def demo_product(index: int) -> DemoProduct:
    # bandit B311: repeatable demo data, not a secret
    rng = random.Random(f"catalog-demo-{index}")  # nosec B311
    category = rng.choice(sorted(CATEGORIES))
    nouns, (low, high) = _ITEMS[category]
    (noun, grams), brand, adjective = rng.choice(nouns), rng.choice(_BRANDS), rng.choice(_ADJECTIVES)
    currency, rate, _ = rng.choices(_CURRENCIES, weights=[weight for *_, weight in _CURRENCIES])[0]
    dollars = Decimal(rng.randint(low * 100, high * 100)) / 100
    if currency == "JPY":
        price = (dollars * rate / 10).quantize(Decimal(1)) * 10  # yen prices in tens
    else:
        price = max((dollars * rate).quantize(Decimal(1)) - Decimal("0.01"), Decimal("0.99"))  # charm prices
    color = rng.choice(_COLORS)
    return DemoProduct(
        sku=demo_sku(index),
        name=f"{brand} {adjective} {noun}",
        description=f"A {adjective.lower()} {noun.lower()} by {brand}, in {color}. Demo product #{index}.",
        category=category,
        price=price,
        currency=currency,
        weight=Decimal(grams * rng.randint(85, 115) // 100) / 1000,  # within 15 % of the typical weight
        tax_class="reduced" if category in _REDUCED_RATE_CATEGORIES else DEFAULT_TAX_CLASS,
        attributes={"brand": brand, "color": color},
        units=0 if rng.random() < 0.05 else rng.randint(1, 250),
    )


@dataclass(frozen=True)
class SeedReport:
    categories: int  # created by this run
    products: int  # created by this run


def _existing_pks(model, pks: list[str], chunk: int = 500) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(pks), chunk):
        found.update(model.objects.filter(pk__in=pks[start:start + chunk]).values_list("pk", flat=True))
    return found


def catalog_seed(*, products: int) -> SeedReport:
    """Demo products DEMO-000001..N with categories and stock (audited as adjustments).
    Idempotent: what exists is kept; bulk inserts only of what is missing (no ignore_conflicts,
    which MongoDB does not support)."""
    now = catalog_now()
    have_categories = set(Category.objects.values_list("pk", flat=True))
    categories = [Category(slug=slug, name=name) for slug, name in CATEGORIES.items() if slug not in have_categories]
    Category.objects.bulk_create(categories)

    skus = [demo_sku(index) for index in range(1, products + 1)]
    have_products, have_stock = _existing_pks(Product, skus), _existing_pks(Stock, skus)
    new_products, new_stock, new_adjustments = [], [], []
    for index, sku in enumerate(skus, start=1):
        if sku in have_products:
            continue
        demo = demo_product(index)
        new_products.append(Product(
            sku=sku, name=demo.name, description=demo.description, category_id=demo.category, price=demo.price,
            currency=demo.currency, weight=demo.weight, tax_class=demo.tax_class, attributes=demo.attributes,
            created_at=now, updated_at=now))
        if sku in have_stock:
            continue
        adjustment_id = uuid.uuid4() if demo.units else None
        new_stock.append(Stock(product_id=sku, stocked=demo.units, on_hand=demo.units, available=demo.units,
                               last_adjustment_id=adjustment_id, updated_at=now))
        if adjustment_id:
            new_adjustments.append(StockAdjustment(
                id=adjustment_id, product_id=sku, delta=demo.units, reason="Initial demo stock",
                actor_name="catalog_seed", status=StockAdjustment.Status.APPLIED, stocked_after=demo.units,
                available_after=demo.units, created_at=now))
    # Audit rows, then stock, then products: a product never exists without its stock row.
    StockAdjustment.objects.bulk_create(new_adjustments, batch_size=1000)
    Stock.objects.bulk_create(new_stock, batch_size=1000)
    Product.objects.bulk_create(new_products, batch_size=1000)
    if new_products or categories:
        catalog_cache_invalidate(skus=[product.sku for product in new_products], lists=True)
    return SeedReport(categories=len(categories), products=len(new_products))
