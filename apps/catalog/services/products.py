"""Products and categories: created, changed (a conditional update on the version) and
deactivated, each write invalidating what the cache holds of it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import IntegrityError

from apps.catalog.cache import catalog_cache_invalidate
from apps.catalog.errors import InvalidProduct, ProductExists, ProductNotFound
from apps.catalog.models import Category, Product
from apps.catalog.services.clock import catalog_now
from apps.catalog.services.stock import stock_row_ensure
from apps.catalog.types import DEFAULT_TAX_CLASS
from apps.catalog.validation import SKU_PATTERN, field_error, price_errors, tax_class_errors, weight_errors, weight_kg
from apps.common.http.problems import Conflict, PreconditionFailed
from apps.common.money import money

EDITABLE_FIELDS = frozenset({"name", "description", "category", "price", "currency", "weight", "tax_class", "active",
                             "attributes"})


def _price_checked(price, currency: str, errors: list) -> Decimal | None:
    if price is None:
        errors.append(field_error("price", "A price is required.", "required"))
        return None
    problems = price_errors(price, currency)
    errors.extend(field_error(field, message) for field, message in problems.items())
    return None if problems else money(price, currency)


def _weight_checked(weight, errors: list) -> Decimal | None:
    problems = weight_errors(weight)
    errors.extend(field_error(field, message) for field, message in problems.items())
    return None if problems else weight_kg(weight)


def _tax_class_checked(code: str, errors: list) -> None:
    errors.extend(field_error(field, message, "does_not_exist") for field, message in tax_class_errors(code).items())


def _category_checked(category: str | None, errors: list) -> None:
    if category is not None and not Category.objects.filter(pk=category).exists():
        errors.append(field_error("category", f"Unknown category {category!r}.", "does_not_exist"))


def product_create(*, sku: str, name: str, price, currency: str, description: str = "",
                   category: str | None = None, weight=Decimal(0), tax_class: str | None = None, active: bool = True,
                   attributes: dict | None = None) -> Product:
    """tax_class None: the default class, taken without asking pricing; a named class must exist there."""
    errors: list[dict] = []
    if not SKU_PATTERN.match(sku):
        errors.append(field_error("sku", "Upper-case letters, digits, '.', '_' and '-' (at most 64)."))
    if not name.strip():
        errors.append(field_error("name", "The name must not be blank.", "blank"))
    price = _price_checked(price, currency, errors)
    weight = _weight_checked(weight, errors)
    if tax_class is not None:
        _tax_class_checked(tax_class, errors)
    _category_checked(category, errors)
    if errors:
        raise InvalidProduct(extra={"errors": errors})
    if Product.objects.filter(pk=sku).exists():
        raise ProductExists(f"A product with SKU {sku} already exists.")
    now = catalog_now()
    stock_row_ensure(sku=sku, now=now)
    try:
        product = Product.objects.create(
            sku=sku, name=name.strip(), description=description, category_id=category, price=price,
            currency=currency, weight=weight, tax_class=DEFAULT_TAX_CLASS if tax_class is None else tax_class,
            active=active, attributes=attributes or {}, created_at=now, updated_at=now,
        )
    except IntegrityError as exc:
        raise ProductExists(f"A product with SKU {sku} already exists.") from exc
    catalog_cache_invalidate(skus=[sku], lists=True)  # a cached 404 of this SKU goes too
    return product


def product_update(*, sku: str, changes: Mapping, expected_version: int | None = None) -> Product:
    """Change some fields. With `expected_version` (If-Match) a stale version gets 412; every
    change is a conditional update on the version it was validated against."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidProduct(extra={"errors": [field_error(f, "This field cannot be changed.", "read_only")
                                               for f in sorted(unknown)]})
    for _attempt in range(3):
        product = Product.objects.filter(pk=sku).first()
        if product is None:
            raise ProductNotFound(f"No product with SKU {sku}.")
        if expected_version is not None and product.version != expected_version:
            raise PreconditionFailed(f"The product is at version {product.version}, not {expected_version}.")
        values = _validated_changes(product, changes)
        now = catalog_now()
        updated = Product.objects.filter(pk=sku, version=product.version).update(
            **values, version=product.version + 1, updated_at=now)
        if updated:
            catalog_cache_invalidate(skus=[sku], lists=True)
            return Product.objects.get(pk=sku)
        if expected_version is not None:
            raise PreconditionFailed("The product was changed by another request.")
    raise Conflict("The product kept changing; try again.")


def _validated_changes(product: Product, changes: Mapping) -> dict:
    errors: list[dict] = []
    values = dict(changes)
    if "name" in values:
        values["name"] = str(values["name"]).strip()
        if not values["name"]:
            errors.append(field_error("name", "The name must not be blank.", "blank"))
    if "price" in values or "currency" in values:
        currency = values.get("currency", product.currency)
        values["price"] = _price_checked(values.get("price", product.price), currency, errors)
    if "weight" in values:
        values["weight"] = _weight_checked(values["weight"], errors)
    if "tax_class" in values:
        _tax_class_checked(values["tax_class"], errors)
    if "category" in values:
        _category_checked(values["category"], errors)
        values["category_id"] = values.pop("category")
    if "attributes" in values and not isinstance(values["attributes"], dict):
        errors.append(field_error("attributes", "Attributes must be an object."))
    if errors:
        raise InvalidProduct(extra={"errors": errors})
    return values


def product_deactivate(*, sku: str, expected_version: int | None = None) -> Product:
    return product_update(sku=sku, changes={"active": False}, expected_version=expected_version)


def category_save(*, slug: str, name: str) -> Category:
    if Category.objects.filter(pk=slug).update(name=name):
        category = Category(slug=slug, name=name)
    else:
        category = Category.objects.create(slug=slug, name=name)
    catalog_cache_invalidate(lists=True)
    return category


def category_delete(*, slug: str) -> None:
    """Raises ProtectedError while products use the category."""
    Category.objects.filter(pk=slug).delete()
    catalog_cache_invalidate(lists=True)
