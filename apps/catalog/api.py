"""The only module other apps may import from apps.catalog (besides events.py).

Functions take and return primitives or frozen dataclasses, never models or querysets: the
caller lives on another database. Every stock function is idempotent per order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

DEFAULT_RESERVATION_TTL = timedelta(minutes=15)


@dataclass(frozen=True)
class PriceSnapshot:
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    active: bool


@dataclass(frozen=True)
class StockLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class ReservationOutcome:
    order_id: UUID
    reserved: bool  # True: every line is held for the order
    short_skus: tuple[str, ...] = ()  # the SKUs that could not be held (empty when reserved)


def price_snapshots(*, skus: Sequence[str]) -> dict[str, PriceSnapshot]:
    """Current name, price and active flag of each known SKU; unknown SKUs are absent."""
    from apps.catalog.selectors import product_price_snapshots

    return product_price_snapshots(skus=skus)


def stock_reserve(*, order_id: UUID, lines: Sequence[StockLine],
                  ttl: timedelta | None = DEFAULT_RESERVATION_TTL) -> ReservationOutcome:
    """Hold every line for the order, or none: a short line gives back what this call took.
    Calling it again for an order that holds its lines takes nothing more. ttl=None: no expiry."""
    from apps.catalog.services import stock_reserve as _reserve

    return _reserve(order_id=order_id, lines=lines, ttl=ttl)


def stock_hold_extend(*, order_id: UUID, ttl: timedelta | None) -> None:
    """Keep the order's holds for `ttl` more (None: until committed or released), e.g. once the
    order is confirmed and waits for shipment."""
    from apps.catalog.services import stock_hold_extend as _extend

    _extend(order_id=order_id, ttl=ttl)


def stock_commit(*, order_id: UUID) -> None:
    """At shipment: the order's held units leave the stock for good. Idempotent."""
    from apps.catalog.services import stock_commit as _commit

    _commit(order_id=order_id)


def stock_release(*, order_id: UUID) -> None:
    """Give the order's held units back. Idempotent; committed units are not given back."""
    from apps.catalog.services import stock_release as _release

    _release(order_id=order_id)
