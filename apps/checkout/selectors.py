"""Checkout reads. A cart is priced when it is read: lines against the catalog (prices, stock,
weights, tax classes through apps.catalog.api), shipping methods against its shipping address,
discounts and taxes by apps.pricing (through apps.checkout.pricing)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from apps.catalog import api as catalog
from apps.checkout import pricing
from apps.checkout.addresses import address_country
from apps.checkout.errors import CartNotFound
from apps.checkout.models import Cart, CartLine, ShippingMethod
from apps.checkout.tokens import cart_token_matches


@dataclass(frozen=True)
class CartWarning:
    code: str
    detail: str


@dataclass(frozen=True)
class PricedCart:
    """A cart as its owner sees it: every figure computed from the catalog now."""

    cart: Cart
    lines: tuple[pricing.PricedLine, ...]
    shipping_method: pricing.ShippingQuote | None  # the chosen one, if it still serves the cart
    shipping_methods: tuple[pricing.ShippingQuote, ...]  # what may be chosen for the shipping address
    totals: pricing.CartTotals
    warnings: tuple[CartWarning, ...]


def cart_expired(cart: Cart, *, now: datetime | None = None) -> bool:
    return cart.status == Cart.Status.OPEN and cart.expires_at <= (now or timezone.now())


def cart_for_caller(*, cart_id, user, token: str | None, lock: bool = False) -> Cart:
    """The cart, if this caller may use it: a customer's cart by that customer only, a guest cart
    by whoever holds its token. Anything else is 404, whether the cart exists or not. `lock`:
    read it locked (select_for_update), inside the caller's transaction."""
    carts = Cart.objects.select_for_update() if lock else Cart.objects
    try:
        cart = carts.filter(pk=uuid.UUID(str(cart_id))).first()
    except ValueError:
        cart = None
    if cart is None or cart_expired(cart):
        raise CartNotFound("No such cart.")
    if cart.customer_id is not None:
        if not (user is not None and user.is_authenticated and user.pk == cart.customer_id):
            raise CartNotFound("No such cart.")
    elif not cart_token_matches(token_hash=cart.token_hash, token=token):
        raise CartNotFound("No such cart.")
    return cart


def customer_carts(*, user) -> QuerySet[Cart]:
    """The customer's open carts (one per currency at most), most recently changed first."""
    return Cart.objects.filter(customer=user, status=Cart.Status.OPEN, expires_at__gt=timezone.now())


def catalog_items(*, skus: Sequence[str]) -> dict[str, pricing.CatalogItem]:
    """What the catalog says of each known SKU now; unknown SKUs are absent."""
    snapshots = catalog.price_snapshots(skus=skus)
    levels = catalog.stock_levels(skus=list(snapshots))
    return {
        sku: pricing.CatalogItem(sku=sku, name=snap.name, unit_price=snap.unit_price, currency=snap.currency,
                                 active=snap.active, weight=snap.weight,
                                 available=levels[sku].available if sku in levels else 0,
                                 tax_class=snap.tax_class, category=snap.category)
        for sku, snap in snapshots.items()
    }


def _lines_priced(cart: Cart, lines: Sequence[CartLine]) -> tuple[pricing.PricedLine, ...]:
    items = catalog_items(skus=[line.sku for line in lines])
    return tuple(
        pricing.line_price(line=pricing.LineInput(sku=line.sku, quantity=line.quantity,
                                                  price_when_written=line.unit_price),
                           currency=cart.currency, item=items.get(line.sku))
        for line in lines
    )


def cart_lines_priced(*, cart: Cart) -> tuple[pricing.PricedLine, ...]:
    return _lines_priced(cart, list(CartLine.objects.filter(cart=cart)))


def shipping_terms(*, country: str | None, currency: str) -> list[pricing.ShippingTerms]:
    """The active methods in `currency` whose zone ships to `country`. Zones are few: their
    country lists are matched here rather than with a JSON lookup each engine spells differently."""
    if not country:
        return []
    methods = (ShippingMethod.objects.filter(active=True, currency=currency)
               .select_related("zone").prefetch_related("rates"))
    return [_terms(method) for method in methods if country in (method.zone.countries or [])]


def _terms(method: ShippingMethod) -> pricing.ShippingTerms:
    bands = tuple(pricing.RateBand(min_value=rate.min_value, max_value=rate.max_value, price=rate.price)
                  for rate in method.rates.all())
    return pricing.ShippingTerms(method_id=method.pk, name=method.name, kind=pricing.ShippingKind(method.kind),
                                 currency=method.currency, price=method.price, free_above=method.free_above,
                                 bands=bands)


def cart_shipping_quotes(*, cart: Cart, lines: Sequence[pricing.PricedLine],
                         address: Mapping | None) -> list[pricing.ShippingQuote]:
    """The methods that can ship these lines to `address`, each with its price."""
    terms = shipping_terms(country=address_country(address), currency=cart.currency)
    return pricing.shipping_quotes(methods=terms, lines=lines, currency=cart.currency)


def cart_buyer(*, cart: Cart) -> pricing.Buyer:
    """Where the cart goes (its shipping address) and who buys, for taxes and voucher limits."""
    address = cart.shipping_address or {}
    return pricing.Buyer(country=address.get("country") or None, region=address.get("region") or "",
                         customer_id=cart.customer_id, email=cart.customer.email if cart.customer_id else "",
                         tax_id=cart.tax_id)


def cart_priced(*, cart: Cart, with_code: str | None = None) -> PricedCart:
    """The cart priced now. `with_code`: priced with that code added to its codes, or the code's
    VoucherError (422) if it would give nothing (apps.checkout.pricing.cart_totals_with_code)."""
    lines = cart_lines_priced(cart=cart)
    quotes = cart_shipping_quotes(cart=cart, lines=lines, address=cart.shipping_address)
    chosen = next((quote for quote in quotes if quote.method_id == cart.shipping_method_id), None)
    warnings = []
    if cart.shipping_method_id is not None and chosen is None:
        warnings.append(CartWarning("shipping_method_unavailable",
                                    "The chosen shipping method no longer serves this cart: choose another."))
    figures = {"lines": lines, "shipping": chosen.price if chosen else None, "currency": cart.currency,
               "buyer": cart_buyer(cart=cart), "codes": tuple(cart.voucher_codes or ())}
    if with_code is None:
        totals = pricing.cart_totals(**figures)
    else:
        totals = pricing.cart_totals_with_code(code=with_code, **figures)
    return PricedCart(cart=cart, lines=lines, shipping_method=chosen, shipping_methods=tuple(quotes), totals=totals,
                      warnings=tuple(warnings))
