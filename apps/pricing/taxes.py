"""Tax calculation behind one interface (TaxCalculator), like the payment providers: the
calculator named by settings.TAX_CALCULATOR does the work; the built-in one reads the rate table
(TaxRate rows). A tax service's adapter registers itself with tax_calculator_register from its
AppConfig.ready and is chosen by name.

Rules of the built-in calculator:
- every line is taxed at its tax class's rate at the destination (a region's rate replaces the
  country's); an exempt class is never taxed; an unknown class code counts as standard (charging
  tax when unsure is the safe side), a class without a rate there is taxed at 0 %;
- shipping is taxed at the destination's standard rate (simple and predictable; shops whose
  country wants the rate of the goods can plug in a calculator that does so);
- tax is computed and rounded per line to the currency's minor unit, half up:
  gross mode tax = amount - amount / (1 + rate), net mode tax = amount * rate;
- a zero-rated request (reverse charge) is taxed at 0 % everywhere, with its tax lines kept."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.common.money import money_round
from apps.pricing import selectors
from apps.pricing.types import (
    SHIPPING_KEY,
    STANDARD,
    ZERO,
    PriceMode,
    RateTable,
    TaxableLine,
    TaxDestination,
    TaxLine,
    TaxRequest,
    TaxResult,
)

HUNDRED = Decimal(100)


class TaxCalculator(Protocol):
    name: str

    def taxes_calculate(self, request: TaxRequest) -> TaxResult:
        """Tax for every line of the request and for its shipping, one TaxLine each."""


_CALCULATORS: dict[str, Callable[[], TaxCalculator]] = {}


def tax_calculator_register(*, name: str, factory: Callable[[], TaxCalculator]) -> None:
    _CALCULATORS[name] = factory


def tax_calculator() -> TaxCalculator:
    """The calculator settings.TAX_CALCULATOR names."""
    name = settings.TAX_CALCULATOR
    factory = _CALCULATORS.get(name)
    if factory is None:
        raise ImproperlyConfigured(f"TAX_CALCULATOR names {name!r}; registered: {sorted(_CALCULATORS)}.")
    return factory()


def tax_amount(*, amount: Decimal, rate: Decimal, mode: PriceMode, currency: str) -> Decimal:
    """The tax in `amount` (gross mode) or on it (net mode) at `rate` percent, at the minor unit."""
    if mode is PriceMode.GROSS:
        return money_round(amount * rate / (HUNDRED + rate), currency)
    return money_round(amount * rate / HUNDRED, currency)


def _tax_line(*, key: str, tax_class: str, amount: Decimal, rate: Decimal, request: TaxRequest) -> TaxLine:
    tax = tax_amount(amount=amount, rate=rate, mode=request.mode, currency=request.currency)
    base = amount - tax if request.mode is PriceMode.GROSS else amount
    return TaxLine(key=key, tax_class=tax_class, rate=rate, base=base, amount=tax)


def _line_rate(line: TaxableLine, table: RateTable, request: TaxRequest) -> tuple[str, Decimal]:
    tax_class = line.tax_class if line.tax_class in table.known else STANDARD
    if request.zero_rated or tax_class in table.exempt:
        return tax_class, ZERO
    return tax_class, table.rates.get(tax_class, ZERO)


def taxes_compute(*, request: TaxRequest, table: RateTable) -> TaxResult:
    """The built-in rules (module docstring) on a rate table: pure, no database."""
    lines = []
    for line in request.lines:
        tax_class, rate = _line_rate(line, table, request)
        lines.append(_tax_line(key=line.key, tax_class=tax_class, amount=line.amount, rate=rate, request=request))
    shipping = None
    if request.shipping is not None:
        rate = ZERO if request.zero_rated else table.rates.get(STANDARD, ZERO)
        shipping = _tax_line(key=SHIPPING_KEY, tax_class=STANDARD, amount=request.shipping, rate=rate,
                             request=request)
    return TaxResult(lines=tuple(lines), shipping=shipping)


class RateTableTaxCalculator:
    """The default calculator: the staff-maintained rate table. `table_for` is the rate lookup
    (the database by default; tests pass their own table)."""

    name = "rate_table"

    def __init__(self, table_for: Callable[[TaxDestination | None], RateTable] | None = None):
        self._table_for = table_for or _table_from_database

    def taxes_calculate(self, request: TaxRequest) -> TaxResult:
        return taxes_compute(request=request, table=self._table_for(request.destination))


def _table_from_database(destination: TaxDestination | None) -> RateTable:
    return selectors.tax_rate_table(destination=destination)
