"""Splitting an amount over weighted parts so that the
parts sum exactly to it (largest remainder)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from apps.common.money import minor_unit


def apportion(total: Decimal, weights: Sequence[tuple[str, Decimal]], currency: str) -> tuple[tuple[str, Decimal], ...]:
    """Split `total` over the keys in proportion to their weights, in minor units, the units left
    by rounding down going to the largest remainders (the earlier key on a tie). The shares sum
    exactly to `total`, and none exceeds its weight when `total` does not exceed their sum.
    Keys with a zero share are left out."""
    unit = minor_unit(currency)
    units = int(total / unit)
    if units < 0 or Decimal(units) * unit != total:
        raise ValueError(f"{total} is not a non-negative amount of {currency}.")
    weight_units = [int((weight / unit).to_integral_value(rounding=ROUND_FLOOR)) for _, weight in weights]
    whole = sum(weight_units)
    if units == 0:
        return ()
    if whole <= 0:
        raise ValueError("An amount cannot be split over parts that weigh nothing.")
    shares = [units * weight // whole for weight in weight_units]
    remainders = [units * weight % whole for weight in weight_units]
    left = units - sum(shares)
    by_remainder = sorted(range(len(shares)), key=lambda index: (-remainders[index], index))
    for index in by_remainder[:left]:
        shares[index] += 1
    return tuple((key, Decimal(share) * unit) for (key, _), share in zip(weights, shares, strict=True) if share)
