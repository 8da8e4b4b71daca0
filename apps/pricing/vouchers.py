"""Voucher uses, claimed like stock: one conditional update of the voucher's counter decides, and
a ledger row per (voucher, order) makes every call idempotent per order and a use given back once.

    reserve  (order placement)          used + 1 if used < usage_limit; use RESERVED
    confirm  (order placed)             RESERVED -> USED
    release  (failed, or cancelled      RESERVED/USED -> RELEASED, used - 1 on that transition only
              before shipment)

The conditional update holds the voucher row's lock until the transaction ends, so the
per-customer count read after it sees every use committed before: the per-customer limit holds
under concurrency too (PostgreSQL row lock; SQLite locks the whole database for a write)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.pricing.errors import VoucherCustomerLimit, VoucherExhausted, VoucherNotFound
from apps.pricing.models import Voucher, VoucherUse, voucher_code_normalize
from apps.pricing.promotions import rule_window_problem
from apps.pricing.selectors import HELD, promotion_rule, voucher_customer_uses, voucher_use_info
from apps.pricing.types import VoucherUseInfo, VoucherUseStatus


class _OrderHoldsUse(Exception):
    """Another call for the same order took the use first: undo this call's increment."""

    def __init__(self, use: VoucherUse):
        super().__init__(use.pk)
        self.use = use


def _order_use(*, code: str, order_id: UUID) -> VoucherUse | None:
    return VoucherUse.objects.select_related("voucher").filter(voucher__code=code, order_id=order_id).first()


def voucher_use_reserve(*, code: str, order_id: UUID, customer_id: int | None, email: str,
                        now: datetime | None = None) -> VoucherUseInfo:
    """Take one use of the voucher for the order. Idempotent per (code, order): a second call
    returns the order's use as it stands (a released use stays released). Raises
    VoucherNotFound, VoucherNotYetValid, VoucherExpired, VoucherExhausted, VoucherCustomerLimit."""
    now = now or timezone.now()
    code = voucher_code_normalize(code)
    existing = _order_use(code=code, order_id=order_id)
    if existing is not None:
        return voucher_use_info(existing)
    try:
        with transaction.atomic():
            use = _use_take(code=code, order_id=order_id, customer_id=customer_id, email=email, now=now,
                            order_checked=False)
    except _OrderHoldsUse as held:
        return voucher_use_info(held.use)
    except IntegrityError:
        # The unique (voucher, order) caught a same-order call this lock did not serialize.
        existing = _order_use(code=code, order_id=order_id)
        if existing is None:
            raise
        return voucher_use_info(existing)
    return voucher_use_info(use)


def _use_take(*, code: str, order_id: UUID, customer_id: int | None, email: str, now: datetime,
              order_checked: bool) -> VoucherUse:
    """The use, in the caller's transaction: the voucher's counter up by one if a use is left,
    and its ledger row. `order_checked`: the caller knows the order holds no use of any code
    (its first call), so the order's use is not looked for under the lock; the unique
    (voucher, order) still refuses a second one."""
    extra = {"voucher_code": code}
    voucher = Voucher.objects.select_related("promotion").filter(code=code).first()
    if voucher is None or not voucher.promotion.active:
        raise VoucherNotFound(extra=extra)
    window = rule_window_problem(promotion_rule(voucher.promotion), now=now)
    if window is not None:
        raise window(extra=extra)
    taken = (Voucher.objects.filter(Q(usage_limit__isnull=True) | Q(used__lt=F("usage_limit")), pk=voucher.pk)
             .update(used=F("used") + 1))
    if not order_checked:
        existing = _order_use(code=code, order_id=order_id)
        if existing is not None:
            raise _OrderHoldsUse(existing)
    if not taken:
        raise VoucherExhausted(extra=extra)
    email = email.strip().lower()
    limit = voucher.usage_limit_per_customer
    # The order's own use, if it holds one after all, is not the customer's other use: the
    # insert's duplicate answers for it.
    if limit is not None and voucher_customer_uses(voucher_id=voucher.pk, customer_id=customer_id, email=email,
                                                   exclude_order_id=order_id) >= limit:
        raise VoucherCustomerLimit(extra=extra)
    return VoucherUse.objects.create(voucher=voucher, order_id=order_id, customer_id=customer_id, email=email,
                                     status=VoucherUseStatus.RESERVED.value, created_at=now, updated_at=now)


def voucher_uses_reserve(*, codes: Sequence[str], order_id: UUID, customer_id: int | None, email: str,
                         now: datetime | None = None, first: bool = False) -> tuple[VoucherUseInfo, ...]:
    """Every code's use for the order, or none (the first error undoes the others). Codes are
    taken in a fixed order so that two orders with the same codes cannot deadlock.

    `first`: the caller created the order moments ago and has not reserved for it before, so
    nothing is looked up first (one transaction: per code the voucher's read, its counter's
    update and the use's insert). Should the order hold a use after all, the insert's duplicate
    undoes that transaction and the per-code path below answers, as for any other call."""
    now = now or timezone.now()
    ordered = sorted({voucher_code_normalize(code) for code in codes if code.strip()})
    if first:
        try:
            with transaction.atomic():
                return tuple(voucher_use_info(_use_take(code=code, order_id=order_id, customer_id=customer_id,
                                                        email=email, now=now, order_checked=True))
                             for code in ordered)
        except IntegrityError:
            pass
    with transaction.atomic():
        return tuple(voucher_use_reserve(code=code, order_id=order_id, customer_id=customer_id, email=email, now=now)
                     for code in ordered)


def voucher_use_confirm(*, order_id: UUID, now: datetime | None = None) -> int:
    """The order was placed: its reserved uses become used. Returns how many changed."""
    now = now or timezone.now()
    return VoucherUse.objects.filter(order_id=order_id, status=VoucherUseStatus.RESERVED.value).update(
        status=VoucherUseStatus.USED.value, updated_at=now)


def voucher_use_release(*, order_id: UUID, now: datetime | None = None) -> int:
    """Give the order's uses back (it failed, or was cancelled before shipment): each use once,
    however often or concurrently this is called. Returns how many were given back by this call."""
    now = now or timezone.now()
    given_back = 0
    with transaction.atomic():
        for use_id, voucher_id in (VoucherUse.objects.filter(order_id=order_id, status__in=HELD)
                                   .order_by("voucher_id").values_list("pk", "voucher_id")):
            changed = VoucherUse.objects.filter(pk=use_id, status__in=HELD).update(
                status=VoucherUseStatus.RELEASED.value, updated_at=now)
            if changed:
                Voucher.objects.filter(pk=voucher_id).update(used=F("used") - 1)
                given_back += 1
    return given_back

