"""The only module other apps may import from apps.catalog (besides events.py).

Functions take and return primitives or frozen dataclasses, never models or querysets: the
caller lives on another database. Every stock function is idempotent per order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

from apps.catalog import selectors
from apps.catalog.services import reservations
from apps.catalog.types import PriceSnapshot, ReservationOutcome, StockLevel, StockLine

__all__ = [
    "DEFAULT_RESERVATION_TTL",
    "PriceSnapshot",
    "ReservationOutcome",
    "StockLevel",
    "StockLine",
    "price_snapshots",
    "stock_commit",
    "stock_hold_extend",
    "stock_levels",
    "stock_release",
    "stock_reserve",
]

DEFAULT_RESERVATION_TTL = timedelta(minutes=15)


def price_snapshots(*, skus: Sequence[str]) -> dict[str, PriceSnapshot]:
    """Current name, price, active flag, shipping weight and tax class of each known SKU; unknown
    SKUs are absent."""
    return selectors.product_price_snapshots(skus=skus)


def stock_levels(*, skus: Sequence[str]) -> dict[str, StockLevel]:
    """Units of each known SKU that can be ordered now; SKUs without stock rows are absent."""
    return selectors.stock_levels(skus=skus)


def stock_reserve(*, order_id: UUID, lines: Sequence[StockLine],
                  ttl: timedelta | None = DEFAULT_RESERVATION_TTL) -> ReservationOutcome:
    """Hold every line for the order, or none: a short line gives back what this call took.
    Calling it again for an order that holds its lines takes nothing more. ttl=None: no expiry."""
    return reservations.stock_reserve(order_id=order_id, lines=lines, ttl=ttl)


def stock_hold_extend(*, order_id: UUID, ttl: timedelta | None) -> int:
    """Keep the order's holds for `ttl` more (None: until committed or released), e.g. once the
    order is confirmed and waits for shipment. Returns how many holds (one per SKU) it kept: fewer
    than the order's SKUs means a hold lapsed (expired or released) and must be reserved again."""
    return reservations.stock_hold_extend(order_id=order_id, ttl=ttl)


def stock_commit(*, order_id: UUID) -> None:
    """At shipment: the order's held units leave the stock for good. Idempotent."""
    reservations.stock_commit(order_id=order_id)


def stock_release(*, order_id: UUID) -> None:
    """Give the order's held units back. Idempotent; committed units are not given back."""
    reservations.stock_release(order_id=order_id)
