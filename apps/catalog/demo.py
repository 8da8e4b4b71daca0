"""Realistic demo products, generated deterministically from their index: the same index always
gives the same product, so seeding is repeatable and idempotent."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

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

_ITEMS: dict[str, tuple[tuple[str, ...], tuple[int, int]]] = {  # nouns, price range in USD
    "books": (("Cookbook", "Novel", "Atlas", "Field Guide", "Notebook", "Poetry Collection", "Biography"), (8, 45)),
    "electronics": (("Headphones", "USB-C Charger", "Bluetooth Speaker", "Power Bank", "Webcam", "Keyboard",
                     "Wireless Mouse", "Smart Plug"), (12, 320)),
    "home-kitchen": (("Chef's Knife", "Cast Iron Pan", "French Press", "Cutting Board", "Tea Kettle",
                      "Linen Towel Set", "Salad Bowl"), (9, 180)),
    "garden": (("Pruning Shears", "Watering Can", "Seed Kit", "Garden Gloves", "Planter", "Hose Reel"), (6, 140)),
    "toys": (("Puzzle", "Building Blocks", "Board Game", "Plush Bear", "Kite", "Wooden Train"), (7, 90)),
    "sports": (("Yoga Mat", "Water Bottle", "Running Cap", "Jump Rope", "Dumbbell Pair", "Trail Backpack"), (8, 160)),
    "beauty": (("Face Cream", "Shampoo", "Lip Balm", "Hand Soap", "Body Lotion", "Beard Oil"), (4, 60)),
    "grocery": (("Olive Oil", "Coffee Beans", "Dark Chocolate", "Green Tea", "Honey", "Pasta"), (2, 35)),
}
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
    attributes: dict
    units: int


def demo_sku(index: int) -> str:
    return f"DEMO-{index:06d}"


def demo_product(index: int) -> DemoProduct:
    # bandit B311: repeatable demo data, not a secret
    rng = random.Random(f"catalog-demo-{index}")  # nosec B311
    category = rng.choice(sorted(CATEGORIES))
    nouns, (low, high) = _ITEMS[category]
    noun, brand, adjective = rng.choice(nouns), rng.choice(_BRANDS), rng.choice(_ADJECTIVES)
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
        attributes={"brand": brand, "color": color, "weight_g": rng.randint(20, 5000)},
        units=0 if rng.random() < 0.05 else rng.randint(1, 250),
    )
