"""Demo taxes and a demo voucher (make run's storefront flow): DE 19 % / 7 %, FR 20 % / 5.5 %,
California 7.25 %, and WELCOME10, 10 % off the order, 100 uses, one per customer. Idempotent:
run it again and nothing changes (rates or promotions staff edited are left as they are)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from apps.pricing.models import Promotion, TaxClass, TaxRate, Voucher
from apps.pricing.types import PromotionKind, PromotionScope

# (country, region, tax class, percent)
DEMO_RATES = [
    ("DE", "", "standard", Decimal("19")),
    ("DE", "", "reduced", Decimal("7")),
    ("FR", "", "standard", Decimal("20")),
    ("FR", "", "reduced", Decimal("5.5")),
    ("US", "CA", "standard", Decimal("7.25")),
]
DEMO_VOUCHER = "WELCOME10"


@dataclass(frozen=True)
class PricingDemo:
    rates: int  # rates created by this call
    voucher: bool  # whether this call created the demo voucher


def pricing_demo_setup() -> PricingDemo:
    """Create the demo rates and the demo voucher that are missing."""
    rates = 0
    with transaction.atomic():
        for country, region, tax_class, rate in DEMO_RATES:
            _, created = TaxRate.objects.get_or_create(
                country=country, region=region, tax_class=TaxClass.objects.get(code=tax_class),
                defaults={"rate": rate})
            rates += created
        voucher_made = False
        if not Voucher.objects.filter(code=DEMO_VOUCHER).exists():
            promotion = Promotion.objects.create(
                name="Welcome: 10 % off", kind=PromotionKind.PERCENTAGE.value, scope=PromotionScope.ORDER.value,
                value=Decimal("10"), combinable=False, applies_automatically=False)
            Voucher.objects.create(code=DEMO_VOUCHER, promotion=promotion, usage_limit=100,
                                   usage_limit_per_customer=1)
            voucher_made = True
    return PricingDemo(rates=rates, voucher=voucher_made)
