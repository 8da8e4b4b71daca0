"""Demo shipping: two zones (the EU, the US), each with a flat method, a method priced by order
subtotal and one priced by weight. Idempotent: run it again and nothing changes."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from apps.checkout.models import ShippingMethod, ShippingRate, ShippingZone

EU = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]
D = Decimal

# zone name -> (countries, currency, methods: (name, kind, flat price, free above, bands (min, max, price)))
DEMO_SHIPPING = {
    "European Union": (EU, "EUR", [
        ("Standard", "flat", D("4.90"), D("50.00"), []),
        ("Economy (by order value)", "subtotal", D(0), None,
         [(D(0), D("25.00"), D("5.90")), (D("25.00"), D("75.00"), D("3.90")), (D("75.00"), None, D("0.00"))]),
        ("Parcel (by weight)", "weight", D(0), None,
         [(D(0), D(2), D("4.50")), (D(2), D(10), D("8.90")), (D(10), D(30), D("15.90"))]),
    ]),
    "United States": (["US"], "USD", [
        ("Ground", "flat", D("5.99"), D("75.00"), []),
        ("Saver (by order value)", "subtotal", D(0), None,
         [(D(0), D("35.00"), D("6.99")), (D("35.00"), None, D("2.99"))]),
        ("Freight (by weight)", "weight", D(0), None,
         [(D(0), D(5), D("7.99")), (D(5), D(20), D("14.99")), (D(20), None, D("29.99"))]),
    ]),
}


def shipping_demo_setup() -> int:
    """Create the demo zones and methods that are missing; returns how many methods it made."""
    made = 0
    with transaction.atomic():
        for zone_name, (countries, currency, methods) in DEMO_SHIPPING.items():
            zone, _ = ShippingZone.objects.get_or_create(name=zone_name, defaults={"countries": countries})
            for name, kind, price, free_above, bands in methods:
                method, created = ShippingMethod.objects.get_or_create(
                    zone=zone, name=name,
                    defaults={"currency": currency, "kind": kind, "price": price, "free_above": free_above})
                if created:
                    made += 1
                    ShippingRate.objects.bulk_create(ShippingRate(method=method, min_value=low, max_value=high,
                                                                  price=band_price)
                                                     for low, high, band_price in bands)
    return made
