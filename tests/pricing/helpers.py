"""Building blocks of the pricing tests: lines, a fixed rate table, a pure pricing call."""

from datetime import UTC, datetime
from decimal import Decimal

from apps.pricing import api as pricing

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
GERMANY = pricing.TaxDestination(country="DE")
DE_RATES = pricing.RateTable(rates={"standard": Decimal("19"), "reduced": Decimal("7")},
                             exempt=frozenset({"exempt"}), known=frozenset({"standard", "reduced", "zero", "exempt"}))


def line(key: str, amount: str, *, tax_class: str = "standard", category: str | None = None,
         sku: str | None = None) -> pricing.PricingLine:
    return pricing.PricingLine(key=key, sku=sku or key, category=category, tax_class=tax_class, amount=Decimal(amount))


def rule(promotion_id: int = 1, **fields) -> pricing.PromotionRule:
    values = {"name": f"Promotion {promotion_id}", "kind": pricing.PromotionKind.PERCENTAGE,
              "scope": pricing.PromotionScope.ORDER, "value": Decimal("10"), "currency": "", "starts_at": None,
              "ends_at": None, "min_subtotal": None, "combinable": False}
    values.update(fields)
    return pricing.PromotionRule(id=promotion_id, **values)


def totals(lines, *, mode=pricing.PriceMode.NET, shipping=None, offers=(), table=DE_RATES, currency="EUR",
           destination=GERMANY, zero_rated=False) -> pricing.PricedCart:
    return pricing.cart_totals(currency=currency, mode=mode, lines=lines,
                               shipping=None if shipping is None else Decimal(shipping), destination=destination,
                               zero_rated=zero_rated, offers=offers, now=NOW,
                               calculator=pricing.RateTableTaxCalculator(table_for=lambda _destination: table))
