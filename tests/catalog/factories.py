from decimal import Decimal

import factory
from django.utils import timezone

from apps.catalog.models import Category, Product, Stock


def _now():
    now = timezone.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class ProductFactory(factory.django.DjangoModelFactory):
    """A product with its stock row (`units` available, all of them stocked)."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Walnut Desk Lamp {n}")
    description = "A lamp."
    category = None
    price = Decimal("19.99")
    currency = "EUR"
    active = True
    attributes = factory.LazyFunction(lambda: {"color": "walnut"})
    created_at = factory.LazyFunction(_now)
    updated_at = factory.LazyFunction(_now)

    @factory.post_generation
    def units(product, create, extracted, **kwargs):
        if create:
            units = 10 if extracted is None else extracted
            Stock.objects.create(product_id=product.sku, stocked=units, on_hand=units, available=units,
                                 updated_at=_now())
