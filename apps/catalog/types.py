"""The catalog's types that more than one module uses: the frozen dataclasses apps.catalog.api
hands to other apps (it re-exports them), and the outcomes the services pass between steps.
This module imports nothing of the app, so any module of it may import this one."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

DEFAULT_TAX_CLASS = "standard"  # a code apps.pricing seeds: the class of a product nobody classified


@dataclass(frozen=True)
class PriceSnapshot:
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    active: bool
    weight: Decimal = Decimal(0)  # kilograms
    tax_class: str = DEFAULT_TAX_CLASS  # a code of apps.pricing's tax classes
    category: str | None = None  # the category's slug (promotions may be scoped to categories)


@dataclass(frozen=True)
class StockLevel:
    sku: str
    available: int  # units that can be reserved now (never negative)


@dataclass(frozen=True)
class StockLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class ReservationOutcome:
    order_id: UUID
    reserved: bool  # True: every line is held for the order
    short_skus: tuple[str, ...] = ()  # the SKUs that could not be held (empty when reserved)


class LineStanding(enum.Enum):
    """Why a reserve call made no claim on a line: what stands there already."""

    KEPT = "kept"  # the order holds the line: nothing more to take
    BUSY = "busy"  # another call is mid-write on the line (or its writer died): the line is short
