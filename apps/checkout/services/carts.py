"""Cart writes. Each one locks the cart row (select_for_update), checks the version the client
sent (If-Match), changes the cart and bumps its version in one transaction: concurrent writes
to a cart run one after the other, and a writer that read an older version gets 412."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.checkout import pricing, selectors
from apps.checkout.addresses import address_book_snapshot, address_clean
from apps.checkout.errors import (
    CartClosed,
    CartCodeNotFound,
    CartCompleting,
    CartCurrencyMismatch,
    CartInsufficientStock,
    CartLineLimit,
    CartLineNotFound,
    CartNotFound,
    CartProductUnavailable,
    ShippingAddressRequired,
    ShippingMethodUnavailable,
)
from apps.checkout.models import Cart, CartLine
from apps.checkout.tokens import cart_token_new
from apps.common.http.problems import Conflict, PreconditionFailed
from apps.common.money import money
from apps.pricing import api as pricing_api

ADDRESS_KINDS = ("shipping", "billing")


@dataclass(frozen=True)
class CartCreated:
    cart: Cart
    created: bool  # False: the customer's open cart in that currency, returned as it is
    token: str | None = None  # a new guest cart's secret token: shown once, never stored


def cart_expiry(now: datetime) -> datetime:
    return now + timedelta(hours=settings.CHECKOUT_CART_TTL_HOURS)


def cart_create(*, customer_id: int | None, currency: str) -> CartCreated:
    """A guest cart with a new secret token, or the customer's open cart in `currency` (at most
    one each), made if they have none."""
    now = timezone.now()
    if customer_id is None:
        token, token_hash = cart_token_new()
        cart = Cart.objects.create(token_hash=token_hash, currency=currency, expires_at=cart_expiry(now),
                                   created_at=now, updated_at=now)
        return CartCreated(cart=cart, created=True, token=token)
    for _attempt in range(3):
        with transaction.atomic():
            existing = customer_open_cart_locked(customer_id=customer_id, currency=currency)
            if existing is not None:
                return CartCreated(cart=existing, created=False)
            try:
                with transaction.atomic():
                    cart = Cart.objects.create(customer_id=customer_id, currency=currency,
                                               expires_at=cart_expiry(now), created_at=now, updated_at=now)
            except IntegrityError:
                continue  # another request made it meanwhile: return that one
            return CartCreated(cart=cart, created=True)
    raise Conflict("The customer's cart kept changing; try again.")


def customer_open_cart_locked(*, customer_id: int, currency: str) -> Cart | None:
    """The customer's open cart in `currency`, locked; an expired one not yet purged goes now,
    so that it never blocks a new cart (one open cart per customer and currency)."""
    cart = Cart.objects.select_for_update().filter(customer_id=customer_id, currency=currency,
                                                   status=Cart.Status.OPEN).first()
    if cart is not None and selectors.cart_expired(cart):
        cart.delete()
        return None
    return cart


def cart_locked(*, cart_id, expected_version: int | None) -> Cart:
    """The open cart, locked for this transaction, at the version the client read."""
    cart = Cart.objects.select_for_update().filter(pk=cart_id).first()
    if cart is None or selectors.cart_expired(cart):
        raise CartNotFound("No such cart.")
    if cart.status == Cart.Status.COMPLETING:
        raise CartCompleting("The cart is being completed; it cannot change now.", headers={"Retry-After": "1"})
    if cart.status != Cart.Status.OPEN:
        merged_into = str(cart.merged_into) if cart.merged_into else None
        raise CartClosed(f"The cart is closed ({cart.closed_reason}).", extra={"merged_into": merged_into})
    if expected_version is not None and cart.version != expected_version:
        raise PreconditionFailed(f"The cart is at version {cart.version}, not {expected_version}.")
    return cart


def cart_saved(cart: Cart, *, now: datetime, **fields) -> Cart:
    """Bump the version of a locked cart, push its expiry back, write `fields`."""
    Cart.objects.filter(pk=cart.pk).update(version=F("version") + 1, updated_at=now, expires_at=cart_expiry(now),
                                           **fields)
    cart.refresh_from_db()
    return cart


def _line_checked(*, cart: Cart, sku: str, quantity: int) -> pricing.CatalogItem:
    """The catalog's item for a line of `quantity` units, or the reason it cannot be written."""
    if quantity > settings.CHECKOUT_LINE_MAX_QUANTITY:
        raise CartLineLimit(f"At most {settings.CHECKOUT_LINE_MAX_QUANTITY} units of one product.")
    item = selectors.catalog_items(skus=[sku]).get(sku)
    if item is None or not item.active:
        raise CartProductUnavailable(f"{sku} is unknown or not for sale.", extra={"sku": sku})
    if item.currency != cart.currency:
        raise CartCurrencyMismatch(f"{sku} is sold in {item.currency}, the cart is in {cart.currency}.",
                                   extra={"sku": sku})
    if item.available < quantity:
        raise CartInsufficientStock(f"Only {item.available} units of {sku} are available.",
                                    extra={"sku": sku, "available": item.available})
    return item


def cart_line_add(*, cart_id, expected_version: int | None, sku: str, quantity: int) -> Cart:
    """Add units of a SKU (to its line, if the cart has one), at the catalog's current price."""
    return _line_write(cart_id=cart_id, expected_version=expected_version, sku=sku, quantity=quantity, add=True)


def cart_line_set(*, cart_id, expected_version: int | None, sku: str, quantity: int) -> Cart:
    """Set a line's quantity, making the line if the cart has none for the SKU."""
    return _line_write(cart_id=cart_id, expected_version=expected_version, sku=sku, quantity=quantity, add=False)


def _line_write(*, cart_id, expected_version: int | None, sku: str, quantity: int, add: bool) -> Cart:
    """The line's price becomes the catalog's current one: the customer saw it when writing."""
    now = timezone.now()
    with transaction.atomic():
        cart = cart_locked(cart_id=cart_id, expected_version=expected_version)
        line = CartLine.objects.filter(cart=cart, sku=sku).first()
        if line is None and CartLine.objects.filter(cart=cart).count() >= settings.CHECKOUT_CART_MAX_LINES:
            raise CartLineLimit(f"A cart holds at most {settings.CHECKOUT_CART_MAX_LINES} products.")
        if add and line is not None:
            quantity += line.quantity
        price = money(_line_checked(cart=cart, sku=sku, quantity=quantity).unit_price, cart.currency)
        if line is None:
            CartLine.objects.create(cart=cart, sku=sku, quantity=quantity, unit_price=price, created_at=now,
                                    updated_at=now)
        else:
            CartLine.objects.filter(pk=line.pk).update(quantity=quantity, unit_price=price, updated_at=now)
        return cart_saved(cart, now=now)


def cart_line_remove(*, cart_id, expected_version: int | None, sku: str) -> Cart:
    now = timezone.now()
    with transaction.atomic():
        cart = cart_locked(cart_id=cart_id, expected_version=expected_version)
        if not CartLine.objects.filter(cart=cart, sku=sku).delete()[0]:
            raise CartLineNotFound(f"The cart has no line for {sku}.")
        return cart_saved(cart, now=now)


def cart_code_apply(*, cart_id, expected_version: int | None, code: str) -> Cart:
    """Apply a voucher code: the cart keeps it if, priced with it, it gives a discount now
    (apps.pricing decides); otherwise its VoucherError (422, a stable code) and nothing changes.
    A code the cart holds already changes nothing."""
    normalized = pricing_api.voucher_code_normalize(code)
    now = timezone.now()
    with transaction.atomic():
        cart = cart_locked(cart_id=cart_id, expected_version=expected_version)
        codes = list(cart.voucher_codes or ())
        if normalized in codes:
            return cart
        selectors.cart_priced(cart=cart, with_code=normalized)
        return cart_saved(cart, now=now, voucher_codes=[*codes, normalized])


def cart_code_remove(*, cart_id, expected_version: int | None, code: str) -> Cart:
    normalized = pricing_api.voucher_code_normalize(code)
    now = timezone.now()
    with transaction.atomic():
        cart = cart_locked(cart_id=cart_id, expected_version=expected_version)
        codes = list(cart.voucher_codes or ())
        if normalized not in codes:
            raise CartCodeNotFound(f"The cart holds no code {normalized}.")
        return cart_saved(cart, now=now, voucher_codes=[held for held in codes if held != normalized])


def cart_update(*, cart_id, expected_version: int | None, customer_id: int | None,
                changes: Mapping[str, Any]) -> Cart:
    """Set or clear the shipping and billing addresses (inline, or `<kind>_address_id` from the
    caller's address book), the shipping method and the customer's VAT number (`tax_id`, "" clears).

    A method must serve the cart's shipping address (422 otherwise); a new shipping address keeps
    the chosen method only if the method serves it too."""
    values: dict[str, Any] = {}
    for kind in ADDRESS_KINDS:  # validated before the lock: it needs nothing of the cart
        if f"{kind}_address_id" in changes:
            values[f"{kind}_address"] = address_book_snapshot(customer_id=customer_id,
                                                              address_id=changes[f"{kind}_address_id"])
        elif f"{kind}_address" in changes:
            given = changes[f"{kind}_address"]
            values[f"{kind}_address"] = None if given is None else address_clean(given, field=f"{kind}_address")
    now = timezone.now()
    with transaction.atomic():
        cart = cart_locked(cart_id=cart_id, expected_version=expected_version)
        address = values.get("shipping_address", cart.shipping_address)
        method_id = changes.get("shipping_method_id", cart.shipping_method_id)
        if method_id is not None and ("shipping_method_id" in changes or "shipping_address" in values):
            serves = address is not None and _method_serves(cart=cart, method_id=method_id, address=address)
            if "shipping_method_id" in changes and address is None:
                raise ShippingAddressRequired()
            if "shipping_method_id" in changes and not serves:
                raise ShippingMethodUnavailable(f"Shipping method {method_id} does not serve this cart's address.",
                                                extra={"shipping_method_id": method_id})
            if not serves:
                method_id = None  # the address moved out of the method's reach
        if "tax_id" in changes:
            values["tax_id"] = changes["tax_id"]
        return cart_saved(cart, now=now, shipping_method_id=method_id, **values)


def _method_serves(*, cart: Cart, method_id: int, address: Mapping) -> bool:
    lines = selectors.cart_lines_priced(cart=cart)
    quotes = selectors.cart_shipping_quotes(cart=cart, lines=lines, address=address)
    return any(quote.method_id == method_id for quote in quotes)
