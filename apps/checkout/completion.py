"""Cart completion: one cart becomes exactly one order, through the placement saga of
apps.orders (reached by apps.orders.api only).

1. Begin, in one transaction with the cart row locked: the cart is open, holds lines that can
   all be bought with the stock they need, a shipping address and a shipping method that serves
   it (the billing address defaults to the shipping address), and an email; every code it holds
   gives a discount; it is priced as its owner sees it (apps.checkout.selectors.cart_priced:
   discounts, then tax per line and on shipping) and moves to `completing`, its version
   bumped. From then on an edit or a second completion is 409 cart_completing.
2. Place, outside that transaction (the saga calls catalog, pricing and payments): the order
   records the cart's frozen snapshot, with its tax and discount lines, and takes one use of
   each code before the payment. orders.order_cart_uniq keeps one order per cart that did not fail.
3. End: a placed order closes the cart (`completed`, its `order_id`); a failed placement (stock,
   a code used up meanwhile, payment) opens it again with `last_failure`, nothing held.

A process dying between 1 and 3 leaves a `completing` cart: carts_completion_recover (a beat
task) ends it from what the orders module knows of the cart's order, or reopens it when none
was placed after CHECKOUT_COMPLETION_STUCK_AFTER_SECONDS."""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.checkout import selectors
from apps.checkout.errors import (
    CartClosed,
    CartCompleting,
    CartIncomplete,
    CartLinesUnavailable,
    CartOrderFailed,
    CartTotalZero,
    ShippingMethodUnavailable,
)
from apps.checkout.models import Cart
from apps.checkout.pricing import LineWarningCode
from apps.checkout.services.carts import cart_expiry
from apps.common.http.problems import ApplicationError, PreconditionFailed
from apps.orders import api as orders
from apps.pricing import api as pricing_api

logger = logging.getLogger(__name__)

Status, Reason = Cart.Status, Cart.ClosedReason


@dataclass(frozen=True)
class CompletionRequest:
    """What the caller adds to the cart: how to pay, and whom to tell."""

    idempotency_key: str
    payment_token: str
    email: str = ""  # a guest's email (required); a signed-in customer's account email otherwise
    phone: str = ""  # default: the shipping address's phone
    expected_version: int | None = None  # If-Match: the cart as the customer last saw it


@dataclass(frozen=True)
class CartCaller:
    """Who asks: a customer's cart answers to that customer only, a guest cart to its token."""

    user: Any
    token: str | None


@dataclass(frozen=True)
class _Begun:
    snapshot: orders.CartSnapshot
    customer_id: int | None
    email: str
    phone: str


class CompletionRecovery(enum.Enum):
    COMPLETED = "completed"  # its order was placed: the cart is closed with it
    REOPENED = "reopened"  # no order came of it (or it failed): the cart is open again, with the reason
    WAITING = "waiting"  # its order is still mid-saga: order recovery ends it first
    NOT_STUCK = "not_stuck"  # not completing (any more)


def cart_complete(*, cart_id, caller: CartCaller, customer_email: str,
                  request: CompletionRequest) -> orders.PlacedOrder:
    """Complete the cart, if `caller` may use it (else CartNotFound, 404: found and checked in the
    locked read that begins the completion, not read before it) into its order: a customer's cart into
    their order (to `customer_email` unless the request names another), a guest cart into a
    guest order to the request's email. The same Idempotency-Key again, once completed, answers
    the same order. Raises the checkout errors of the begin step (nothing changed, except
    `last_failure` for missing stock or a code that gives nothing), then the saga's own:
    OutOfStock (409), a VoucherError (422, e.g. voucher_exhausted: another order took the last
    use), PaymentDeclined (402), PaymentProviderUnavailable (503), each leaving the cart open
    with `last_failure` and nothing held."""
    begun = _completion_begin(cart_id=cart_id, caller=caller, customer_email=customer_email, request=request)
    if isinstance(begun, orders.PlacedOrder):
        return begun  # completed before with this key
    cart_pk = begun.snapshot.cart_id
    key = request.idempotency_key
    try:
        placed = orders.cart_order_place(customer_id=begun.customer_id, snapshot=begun.snapshot,
                                         payment_token=request.payment_token, email=begun.email, phone=begun.phone,
                                         idempotency_key=key)
    except orders.CartAlreadyOrdered as exc:
        # Another completion's order stands (a completion the recovery had given up on): the cart is its.
        existing = orders.cart_order(cart_id=cart_pk)
        if existing is not None and existing.state is orders.PlacementState.PLACED:
            _completion_close(cart_id=cart_pk, key=key, order_id=existing.order_id, any_key=True)
        raise exc
    except (orders.OutOfStock, pricing_api.VoucherError, orders.PaymentDeclined, orders.PaymentProviderUnavailable,
            orders.OrderTotalMismatch) as exc:
        _completion_reopen(cart_id=cart_pk, key=key, failure=_failure(exc))
        raise
    if placed.state is orders.PlacementState.FAILED:
        # A retry with the key of an attempt that failed (its answer was lost): the same failure.
        error = CartOrderFailed(f"Order {placed.number} ended {placed.status}.",
                                extra={"order_id": str(placed.order_id), "order_status": placed.status})
        _completion_reopen(cart_id=cart_pk, key=key, failure=_failure(error))
        raise error
    if placed.state is orders.PlacementState.PENDING:
        # The saga stopped short without an answer (it never should): recovery ends it.
        raise CartCompleting(f"Order {placed.number} is still being placed.", headers={"Retry-After": "5"})
    _completion_close(cart_id=cart_pk, key=key, order_id=placed.order_id)
    return placed


def _completion_begin(*, cart_id, caller: CartCaller, customer_email: str,
                      request: CompletionRequest) -> _Begun | orders.PlacedOrder:
    """Check and price the locked cart, and move it to `completing`; or, completed before with
    this key, its order."""
    refusal = None
    with transaction.atomic():
        cart = selectors.cart_for_caller(cart_id=cart_id, user=caller.user, token=caller.token, lock=True)
        if cart.status == Status.CLOSED and cart.closed_reason == Reason.COMPLETED:
            if cart.completion_key != request.idempotency_key:
                raise CartClosed("The cart was completed already.", extra={"order_id": str(cart.order_id)})
        elif cart.status == Status.COMPLETING:
            raise CartCompleting("The cart is being completed; try again in a moment for its outcome.",
                                 headers={"Retry-After": "1"})
        elif cart.status != Status.OPEN:
            raise CartClosed(f"The cart is closed ({cart.closed_reason}).",
                             extra={"merged_into": str(cart.merged_into) if cart.merged_into else None})
        else:
            if request.expected_version is not None and request.expected_version != cart.version:
                raise PreconditionFailed(f"The cart is at version {cart.version}, not {request.expected_version}.")
            priced = selectors.cart_priced(cart=cart)
            begun, refusal = _checked(cart, priced, customer_email=customer_email, request=request)
            if refusal is None:
                now = timezone.now()
                Cart.objects.filter(pk=cart.pk).update(
                    status=Status.COMPLETING, completion_key=request.idempotency_key, completion_started_at=now,
                    last_failure=None, version=F("version") + 1, updated_at=now, expires_at=cart_expiry(now))
                return begun
            _failure_write(cart.pk, _failure(refusal))
    if refusal is not None:
        raise refusal
    placed = orders.cart_order(cart_id=cart.pk)
    if placed is None:  # closed by hand without an order: nothing to answer with
        raise CartClosed("The cart was completed already.", extra={"order_id": str(cart.order_id)})
    return placed


def _checked(cart: Cart, priced: selectors.PricedCart, *, customer_email: str,
             request: CompletionRequest) -> tuple[_Begun, ApplicationError | None]:
    """What the cart gives the order; and why it cannot be ordered as it stands, if so, which the
    cart records: a code that gives nothing now (422, its voucher error) or stock it lacks (409)."""
    missing = []
    if not priced.lines:
        missing.append("lines")
    if cart.shipping_address is None:
        missing.append("shipping_address")
    if cart.shipping_method_id is None:
        missing.append("shipping_method")
    email = request.email.strip() or (customer_email if cart.customer_id is not None else "")
    if not email:
        missing.append("email")
    if missing:
        raise CartIncomplete(f"Before completing, the cart needs: {', '.join(missing)}.", extra={"missing": missing})
    unavailable = sorted(line.sku for line in priced.lines if not line.counted)
    if unavailable:
        raise CartLinesUnavailable(f"Remove or replace: {', '.join(unavailable)}.", extra={"skus": unavailable})
    if priced.shipping_method is None:
        raise ShippingMethodUnavailable("The chosen shipping method no longer serves this cart: choose another.",
                                        extra={"shipping_method_id": cart.shipping_method_id})
    if priced.totals.total <= 0 and not priced.totals.priced.code_problems:
        raise CartTotalZero()
    short = sorted(line.sku for line in priced.lines
                   if any(warning.code is LineWarningCode.INSUFFICIENT_STOCK for warning in line.warnings))
    refusal: ApplicationError | None = None
    if priced.totals.priced.code_problems:
        refusal = pricing_api.code_problem_error(priced.totals.priced.code_problems[0])
    elif short:
        refusal = orders.OutOfStock(f"Not enough stock for {', '.join(short)}.", extra={"skus": short})
    shipping_address = dict(cart.shipping_address)
    phone = request.phone or shipping_address.get("phone") or ""
    snapshot = _snapshot(cart, priced, shipping_address=shipping_address)
    return _Begun(snapshot=snapshot, customer_id=cart.customer_id, email=email, phone=phone), refusal


def _snapshot(cart: Cart, priced: selectors.PricedCart, *, shipping_address: dict) -> orders.CartSnapshot:
    """The cart as the order freezes it: each line with its tax and share of the discounts, the
    shipping, the tax and discount lines, the codes that gave a discount, the totals."""
    totals = priced.totals
    figures = totals.priced
    shipping_line = figures.shipping_line
    lines = []
    for line in priced.lines:
        counted = totals.line(line.sku)
        lines.append(orders.SnapshotLine(
            sku=line.sku, name=line.name, unit_price=line.unit_price, quantity=line.quantity,
            tax_class=counted.tax_class, tax_rate=counted.tax_rate, discount=counted.discount, tax=counted.tax,
            total=counted.gross))
    return orders.CartSnapshot(
        cart_id=cart.pk, currency=cart.currency, lines=tuple(lines), shipping_address=shipping_address,
        billing_address=dict(cart.billing_address or shipping_address),
        shipping_method_id=priced.shipping_method.method_id, shipping_method=priced.shipping_method.name,
        shipping_total=priced.shipping_method.price, discount_total=totals.discount, tax_total=totals.tax,
        total=totals.total, prices_include_tax=totals.prices_include_tax,
        shipping_discount=shipping_line.discount, shipping_tax=shipping_line.tax,
        tax_lines=figures.tax_lines, discount_lines=figures.discount_lines, voucher_codes=figures.applied_codes,
        tax_id=cart.tax_id, zero_rated=figures.zero_rated)


def _failure(error: ApplicationError) -> dict[str, Any]:
    """What the cart keeps of a failed completion, for its owner to read (`last_failure`)."""
    failure: dict[str, Any] = {"code": error.code, "detail": error.detail, "at": timezone.now().isoformat()}
    for field in ("skus", "order_id", "voucher_code"):
        if field in error.extra:
            failure[field] = error.extra[field]
    return failure


def _failure_write(cart_id: uuid.UUID, failure: Mapping[str, Any]) -> None:
    """The open cart shows why it could not be completed: a change, so a new version (ETag)."""
    Cart.objects.filter(pk=cart_id).update(last_failure=dict(failure), version=F("version") + 1,
                                           updated_at=timezone.now())


def _completion_close(*, cart_id: uuid.UUID, key: str, order_id: uuid.UUID, any_key: bool = False) -> bool:
    """The cart became `order_id`. Also when recovery had reopened it meanwhile: the order is
    what happened. A later completion under way (another key) finds the order by itself."""
    now = timezone.now()
    carts = Cart.objects.filter(pk=cart_id, status__in=(Status.COMPLETING, Status.OPEN))
    if not any_key:
        carts = carts.filter(completion_key=key)
    return bool(carts.update(status=Status.CLOSED, closed_reason=Reason.COMPLETED, order_id=order_id,
                             completion_key=key, last_failure=None, version=F("version") + 1, updated_at=now))


def _completion_reopen(*, cart_id: uuid.UUID, key: str, failure: Mapping[str, Any]) -> bool:
    """Open the cart again after its completion `key` placed no order, saying why."""
    now = timezone.now()
    return bool(Cart.objects.filter(pk=cart_id, status=Status.COMPLETING, completion_key=key).update(
        status=Status.OPEN, completion_started_at=None, last_failure=dict(failure), version=F("version") + 1,
        updated_at=now, expires_at=cart_expiry(now)))


# ---------------------------------------------------------------- recovery

def cart_completion_recover(*, cart_id: uuid.UUID, now: datetime | None = None) -> CompletionRecovery:
    """End the completion of a cart left `completing` by a process that died: closed with its
    order if one was placed, open again (with the reason) if it failed or none was placed."""
    now = now or timezone.now()
    cart = Cart.objects.filter(pk=cart_id, status=Status.COMPLETING).first()
    if cart is None:
        return CompletionRecovery.NOT_STUCK
    key = cart.completion_key
    placed = orders.cart_order(cart_id=cart.pk, idempotency_key=key)
    if placed is None:
        started = cart.completion_started_at or cart.updated_at
        if started > now - _stuck_after():
            return CompletionRecovery.WAITING
        error = CartOrderFailed("The completion was interrupted before it placed an order; complete the cart again.")
        return _reopened(_completion_reopen(cart_id=cart.pk, key=key, failure=_failure(error)))
    if placed.state is orders.PlacementState.PENDING:
        return CompletionRecovery.WAITING
    if placed.state is orders.PlacementState.FAILED:
        error = CartOrderFailed(f"Order {placed.number} ended {placed.status}.",
                                extra={"order_id": str(placed.order_id), "order_status": placed.status})
        return _reopened(_completion_reopen(cart_id=cart.pk, key=key, failure=_failure(error)))
    closed = _completion_close(cart_id=cart.pk, key=key, order_id=placed.order_id)
    return CompletionRecovery.COMPLETED if closed else CompletionRecovery.NOT_STUCK


def _stuck_after() -> timedelta:
    return timedelta(seconds=settings.CHECKOUT_COMPLETION_STUCK_AFTER_SECONDS)


def _reopened(changed: bool) -> CompletionRecovery:
    return CompletionRecovery.REOPENED if changed else CompletionRecovery.NOT_STUCK


def carts_completion_recover(*, now: datetime | None = None, limit: int = 500) -> dict[CompletionRecovery, int]:
    """The beat task's pass: every cart completing for longer than a completion takes
    (CHECKOUT_COMPLETION_STUCK_AFTER_SECONDS). Returns how many ended each way."""
    now = now or timezone.now()
    stuck = list(Cart.objects.filter(status=Status.COMPLETING, completion_started_at__lt=now - _stuck_after())
                 .values_list("pk", flat=True)[:limit])
    outcomes: dict[CompletionRecovery, int] = {}
    for cart_id in stuck:
        outcome = cart_completion_recover(cart_id=cart_id, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        logger.info("cart completion recovery", extra={"cart_id": str(cart_id), "outcome": outcome.value})
    return outcomes
