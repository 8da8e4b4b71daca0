"""What makes a product's fields valid: one place for the services and for the forms and
serializers in front of them."""

from __future__ import annotations

import re

from apps.common.money import CURRENCIES, InvalidMoney, money

SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")


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
