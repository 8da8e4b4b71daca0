"""Values that callers hand to the order services."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineRequest:
    """A quantity of one SKU: what a customer orders, or what staff refund."""

    sku: str
    quantity: int
