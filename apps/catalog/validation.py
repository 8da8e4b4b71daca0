"""What makes a product's fields valid: one place for the services and for the forms and
serializers in front of them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from apps.common.money import CURRENCIES, InvalidMoney, money
from apps.pricing.api import tax_class_codes

SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
GRAM = Decimal("0.001")  # weights are kept to the gram: Product.weight has 3 decimal places
WEIGHT_MAX = Decimal("9999999.999")  # Product.weight has 10 digits
WEIGHT_NEGATIVE = "The weight must not be negative."
WEIGHT_TOO_PRECISE = "The weight is kilograms to the gram: at most 3 decimal places."


def field_error(field: str, message: str, code: str = "invalid") -> dict[str, str]:
    """One entry of InvalidProduct's `errors`."""
    return {"field": field, "code": code, "message": message}


def price_errors(price, currency: str) -> dict[str, str]:
    """What is wrong with a price in its currency, by field; empty when nothing is. A missing
    price (None) is its field's to report: then only the currency is checked."""
    if currency not in CURRENCIES:
        return {"currency": f"Unknown or unsupported currency {currency!r} (ISO 4217 code)."}
    if price is None:
        return {}
    try:
        value = money(price, currency)
    except InvalidMoney as exc:
        return {"price": str(exc)}
    return {"price": "The price must not be negative."} if value < 0 else {}


def weight_kg(weight) -> Decimal:
    """A weight that weight_errors accepts, at the stored precision."""
    return Decimal(str(weight)).quantize(GRAM)


def weight_errors(weight) -> dict[str, str]:
    """What is wrong with a shipping weight in kilograms, by field; empty when nothing is."""
    try:
        value = Decimal(str(weight))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        return {"weight": 'The weight is a number of kilograms, e.g. "0.25".'}
    if value < 0:
        return {"weight": WEIGHT_NEGATIVE}
    if value > WEIGHT_MAX:
        return {"weight": f"The weight must not exceed {WEIGHT_MAX} kg."}
    if value != value.quantize(GRAM):
        return {"weight": WEIGHT_TOO_PRECISE}
    return {}


def tax_class_errors(code: str) -> dict[str, str]:
    """What is wrong with a tax class code, by field: it must name one of pricing's tax classes."""
    known = tax_class_codes()
    if code in known:
        return {}
    return {"tax_class": f"Unknown tax class {code!r}; one of: {', '.join(sorted(known))}."}
