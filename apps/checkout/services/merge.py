"""A guest cart joins the customer's at sign-in: its lines are added into the customer's open
cart of the same currency, or, if they have none, the guest cart becomes theirs. Idempotent:
the merged guest cart is closed and names the cart it went into, so a repeated call finds it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.checkout import selectors
from apps.checkout.models import Cart, CartLine
from apps.checkout.services.carts import cart_saved, customer_open_cart_locked
from apps.checkout.tokens import cart_token_matches
from apps.checkout.types import CartMergeOutcome, CartMergeResult

_NOT_FOUND = CartMergeOutcome(result=CartMergeResult.NOT_FOUND, cart_id=None)


def carts_merge(*, user_id: int, cart_id, cart_token: str) -> CartMergeOutcome:
    """Merge the guest cart `cart_id` (proved by its token) into the customer's cart."""
    try:
        cart_id = uuid.UUID(str(cart_id))
    except ValueError:
        return _NOT_FOUND
    guest = Cart.objects.filter(pk=cart_id).first()
    if guest is None or not cart_token_matches(token_hash=guest.token_hash, token=cart_token):
        return _NOT_FOUND
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _merge_locked(user_id=user_id, cart_id=cart_id, currency=guest.currency)
        except IntegrityError:
            continue  # another sign-in gave the customer an open cart meanwhile: merge into it
    return _NOT_FOUND


def _merge_locked(*, user_id: int, cart_id: uuid.UUID, currency: str) -> CartMergeOutcome:
    # Lock order: the customer's cart, then the guest cart (as every merge does): no deadlock.
    target = customer_open_cart_locked(customer_id=user_id, currency=currency)
    guest = Cart.objects.select_for_update().filter(pk=cart_id).first()
    if guest is None:  # purged meanwhile
        return _NOT_FOUND
    done = _already_done(guest=guest, user_id=user_id)
    if done is not None:
        return done
    now = timezone.now()
    if target is None:
        cart_saved(guest, now=now, customer_id=user_id)  # IntegrityError if an open cart appeared
        return CartMergeOutcome(result=CartMergeResult.ADOPTED, cart_id=guest.pk)
    _lines_add(target=target, guest=guest, now=now)
    cart_saved(target, now=now, **_addresses_missing(target=target, guest=guest))
    cart_saved(guest, now=now, status=Cart.Status.CLOSED, closed_reason=Cart.ClosedReason.MERGED,
               merged_into=target.pk)
    return CartMergeOutcome(result=CartMergeResult.MERGED, cart_id=target.pk)


def _already_done(*, guest: Cart, user_id: int) -> CartMergeOutcome | None:
    """The outcome when there is nothing to merge (any more); None when there is."""
    if guest.customer_id == user_id:
        return CartMergeOutcome(result=CartMergeResult.ALREADY_DONE, cart_id=guest.pk)
    if guest.customer_id is not None or selectors.cart_expired(guest):
        return _NOT_FOUND
    if guest.status != Cart.Status.OPEN:
        owner = Cart.objects.filter(pk=guest.merged_into, customer_id=user_id).values_list("pk", flat=True).first()
        if owner is None:
            return _NOT_FOUND
        return CartMergeOutcome(result=CartMergeResult.ALREADY_DONE, cart_id=owner)
    return None


def _addresses_missing(*, target: Cart, guest: Cart) -> dict:
    """What the guest entered that the customer's cart lacks: a shipping address comes with the
    method chosen for it, so that the method still serves the address it goes with; a VAT number;
    the guest's voucher codes join the customer's (one that gives nothing shows in code_problems)."""
    fill = {}
    if target.shipping_address is None and guest.shipping_address is not None:
        fill.update(shipping_address=guest.shipping_address, shipping_method_id=guest.shipping_method_id)
    if target.billing_address is None and guest.billing_address is not None:
        fill.update(billing_address=guest.billing_address)
    if not target.tax_id and guest.tax_id:
        fill.update(tax_id=guest.tax_id)
    codes = list(target.voucher_codes or ())
    added = [code for code in guest.voucher_codes or () if code not in codes]
    if added:
        fill.update(voucher_codes=[*codes, *added])
    return fill


def _lines_add(*, target: Cart, guest: Cart, now) -> None:
    """The guest's units go into the target's lines (capped per line); new SKUs keep the price
    they were added at. Past the target's line limit, the remaining guest lines are left out."""
    existing = {line.sku: line for line in CartLine.objects.filter(cart=target)}
    room = settings.CHECKOUT_CART_MAX_LINES - len(existing)
    for line in CartLine.objects.filter(cart=guest):
        mine = existing.get(line.sku)
        if mine is not None:
            quantity = min(mine.quantity + line.quantity, settings.CHECKOUT_LINE_MAX_QUANTITY)
            CartLine.objects.filter(pk=mine.pk).update(quantity=quantity, updated_at=now)
        elif room > 0:
            CartLine.objects.create(cart=target, sku=line.sku, quantity=line.quantity, unit_price=line.unit_price,
                                    created_at=now, updated_at=now)
            room -= 1
