from decimal import Decimal

import factory

from apps.pricing.models import Promotion, TaxClass, TaxRate, Voucher


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    country = "DE"
    region = ""
    tax_class = factory.LazyFunction(lambda: TaxClass.objects.get(code="standard"))
    rate = Decimal("19")


class PromotionFactory(factory.django.DjangoModelFactory):
    """An active percentage off the order, in any currency, for ever, reached through vouchers."""

    class Meta:
        model = Promotion

    name = factory.Sequence(lambda n: f"Promotion {n}")
    kind = "percentage"
    scope = "order"
    value = Decimal("10")
    currency = ""
    combinable = False
    applies_automatically = False
    active = True


class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voucher

    code = factory.Sequence(lambda n: f"CODE{n}")
    promotion = factory.SubFactory(PromotionFactory)
