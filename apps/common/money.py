"""Money is Decimal end to end, quantized to its currency's minor unit (ISO 4217)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Currencies whose minor unit is not 2 digits; every other valid code uses 2.
_EXPONENTS = {"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
              "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
              "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3}
# The currencies the shop accepts (ISO 4217); extend as needed.
CURRENCIES = frozenset({"USD", "EUR", "GBP", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK", "JPY",
                        "KRW", "BHD", "KWD", "JOD", "NZD", "SGD", "HKD", "INR", "BRL", "MXN", "ZAR"})
# A supported code in any case, for inputs that take one (their OpenAPI schema shows it).
CURRENCY_PATTERN = "^(" + "|".join("".join(f"[{c}{c.lower()}]" for c in code) for code in sorted(CURRENCIES)) + ")$"


class InvalidMoney(ValueError):
    pass


def currency_exponent(currency: str) -> int:
    if currency not in CURRENCIES:
        raise InvalidMoney(f"Unknown or unsupported currency {currency!r} (ISO 4217 code expected).")
    return _EXPONENTS.get(currency, 2)


def minor_unit(currency: str) -> Decimal:
    """The currency's smallest amount: 0.01 for EUR, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def money_round(amount: Decimal, currency: str) -> Decimal:
    """Half up to the minor unit (money() refuses extra digits; this rounds them)."""
    return _rounded(amount, currency_exponent(currency))


def _rounded(amount: Decimal, exponent: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def money(amount, currency: str) -> Decimal:
    """Parse and validate an amount for `currency`: no floats, no more digits than the minor unit."""
    if isinstance(amount, float):
        raise InvalidMoney("Money must not be a float; pass a string or Decimal.")
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise InvalidMoney(f"{amount!r} is not a number.") from exc
    if not value.is_finite():
        raise InvalidMoney("Money must be finite.")
    rounded = money_round(value, currency)
    if value != rounded:
        raise InvalidMoney(f"{currency} amounts have at most {currency_exponent(currency)} decimal places.")
    return rounded


def money_display(amount, currency: str) -> str:
    """For people: the amount at its currency's minor unit, then the code ("39.99 USD"); any
    code, accepted here or not (2 places unless ISO 4217 says otherwise)."""
    return f"{_rounded(Decimal(str(amount)), _EXPONENTS.get(currency, 2))} {currency}"
