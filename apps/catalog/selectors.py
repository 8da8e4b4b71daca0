"""Catalog reads. Querysets filter on the model's own fields only and never join across
collections, so that they compile to one MongoDB aggregation each (see the golden tests)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db.models import QuerySet

from apps.catalog.errors import ProductNotFound
from apps.catalog.models import Product, Stock
from apps.catalog.types import PriceSnapshot, StockLevel
from apps.common.money import money


def product_find(*, sku: str) -> Product | None:
    return Product.objects.filter(pk=sku).first()


def product_get(*, sku: str) -> Product:
    product = product_find(sku=sku)
    if product is None:
        raise ProductNotFound(f"No product with SKU {sku}.")
    return product


def stock_find(*, sku: str) -> Stock | None:
    return Stock.objects.filter(pk=sku).first()


def product_unit_price(product: Product) -> Decimal:
    """The price at its currency's precision (stored with 3 places for every currency)."""
    return money(product.price, product.currency)


def product_list(*, include_inactive: bool = False, active: bool | None = None, category: str | None = None,
                 currency: str | None = None, min_price: Decimal | None = None, max_price: Decimal | None = None,
                 search: str | None = None) -> QuerySet[Product]:
    """Products by SKU. The public sees active products only; staff may filter on `active`."""
    queryset = Product.objects.all()
    if not include_inactive:
        queryset = queryset.filter(active=True)
    elif active is not None:
        queryset = queryset.filter(active=active)
    if category:
        queryset = queryset.filter(category_id=category)
    if currency:
        queryset = queryset.filter(currency=currency)
    if min_price is not None:
        queryset = queryset.filter(price__gte=min_price)
    if max_price is not None:
        queryset = queryset.filter(price__lte=max_price)
    if search:
        queryset = queryset.filter(name__icontains=search)
    return queryset.order_by("sku")


def product_price_snapshots(*, skus: Sequence[str]) -> dict[str, PriceSnapshot]:
    products = Product.objects.filter(pk__in=list(dict.fromkeys(skus))).only(
        "sku", "name", "price", "currency", "active", "weight", "tax_class", "category")
    return {
        product.sku: PriceSnapshot(sku=product.sku, name=product.name, unit_price=product_unit_price(product),
                                   currency=product.currency, active=product.active, weight=product.weight,
                                   tax_class=product.tax_class, category=product.category_id)
        for product in products
    }


def stock_levels(*, skus: Sequence[str]) -> dict[str, StockLevel]:
    rows = Stock.objects.filter(pk__in=list(dict.fromkeys(skus))).only("product_id", "available")
    return {row.product_id: StockLevel(sku=row.product_id, available=max(row.available, 0)) for row in rows}
