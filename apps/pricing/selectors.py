"""Reads: the rate table of a destination, the promotions a cart may get, voucher usage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import Count, Q

from apps.pricing.errors import VoucherCustomerLimit, VoucherExhausted, VoucherNotFound
from apps.pricing.models import Promotion, TaxClass, TaxRate, Voucher, VoucherUse, voucher_code_normalize
from apps.pricing.promotions import rule_window_problem
from apps.pricing.types import (
    CodeProblem,
    Offer,
    PromotionKind,
    PromotionRule,
    PromotionScope,
    RateTable,
    TaxDestination,
    VoucherUsage,
    VoucherUseInfo,
    VoucherUseStatus,
)

HELD = (VoucherUseStatus.RESERVED.value, VoucherUseStatus.USED.value)


def tax_rate_table(*, destination: TaxDestination | None) -> RateTable:
    """The rates at the destination (a region's rate replaces its country's for the class)."""
    classes = list(TaxClass.objects.values_list("code", "exempt"))
    known = frozenset(code for code, _ in classes)
    exempt = frozenset(code for code, is_exempt in classes if is_exempt)
    if destination is None or not destination.country:
        return RateTable(rates={}, exempt=exempt, known=known)
    region = destination.region.strip().upper()
    rows = TaxRate.objects.filter(country=destination.country.upper(), region__in=["", region] if region else [""])
    rates: dict[str, Decimal] = {}
    # Country-wide rows first, so that the region's rows replace them.
    for tax_class, rate, _row_region in sorted(rows.values_list("tax_class_id", "rate", "region"),
                                               key=lambda row: row[2] != ""):
        rates[tax_class] = _percent(rate)
    return RateTable(rates=rates, exempt=exempt, known=known)


def _percent(rate: Decimal) -> Decimal:
    """19.0000 -> 19, 7.2500 -> 7.25: the rate as staff wrote it."""
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def promotion_rule(promotion: Promotion) -> PromotionRule:
    return PromotionRule(
        id=promotion.pk, name=promotion.name, kind=PromotionKind(promotion.kind), scope=PromotionScope(promotion.scope),
        value=promotion.value, currency=promotion.currency, starts_at=promotion.starts_at, ends_at=promotion.ends_at,
        min_subtotal=promotion.min_subtotal, combinable=promotion.combinable, active=promotion.active,
        categories=frozenset(promotion.categories or ()), skus=frozenset(promotion.skus or ()),
    )


def automatic_offers(*, currency: str, now: datetime) -> tuple[Offer, ...]:
    """The promotions that apply without a code and run now in this currency (or any)."""
    promotions = (Promotion.objects.filter(active=True, applies_automatically=True, currency__in=["", currency])
                  .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
                  .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
                  .order_by("id"))
    return tuple(Offer(rule=promotion_rule(promotion)) for promotion in promotions)


def voucher_customer_uses(*, voucher_id: int, customer_id: int | None, email: str,
                          exclude_order_id: UUID | None = None) -> int:
    """Uses of the voucher held (reserved or used) by this customer: by account, or by email
    (a guest, or the same person before signing up)."""
    who = Q()
    if customer_id is not None:
        who |= Q(customer_id=customer_id)
    if email:
        who |= Q(email=email.strip().lower())
    if not who:
        return 0
    uses = VoucherUse.objects.filter(who, voucher_id=voucher_id, status__in=HELD)
    if exclude_order_id is not None:
        uses = uses.exclude(order_id=exclude_order_id)
    return uses.count()


def voucher_offers(*, codes: Sequence[str], customer_id: int | None, email: str, now: datetime,
                   order_id: UUID | None = None) -> tuple[tuple[Offer, ...], tuple[CodeProblem, ...]]:
    """The promotions the codes unlock, and why the others do not. A code the order `order_id`
    already holds a use of (a retried completion) is not refused for its limits."""
    normalized = list(dict.fromkeys(voucher_code_normalize(code) for code in codes if code.strip()))
    vouchers = {voucher.code: voucher
                for voucher in Voucher.objects.filter(code__in=normalized).select_related("promotion")}
    held = set()
    if order_id is not None:
        uses = VoucherUse.objects.filter(order_id=order_id, status__in=HELD)
        held = set(uses.values_list("voucher__code", flat=True))
    offers, problems = [], []
    for code in normalized:
        voucher = vouchers.get(code)
        if voucher is None or not voucher.promotion.active:
            problems.append(_problem(code, VoucherNotFound))
            continue
        rule = promotion_rule(voucher.promotion)
        window = rule_window_problem(rule, now=now)
        if window is not None:
            problems.append(_problem(code, window))
            continue
        if code not in held:
            limit = voucher_limit_problem(voucher=voucher, customer_id=customer_id, email=email)
            if limit is not None:
                problems.append(_problem(code, limit))
                continue
        offers.append(Offer(rule=rule, voucher_code=code))
    return tuple(offers), tuple(problems)


def voucher_limit_problem(*, voucher: Voucher, customer_id: int | None, email: str,
                          exclude_order_id: UUID | None = None):
    """The limit the voucher would break with one more use by this customer (an error class), or None."""
    if voucher.usage_limit is not None and voucher.used >= voucher.usage_limit:
        return VoucherExhausted
    if voucher.usage_limit_per_customer is not None:
        uses = voucher_customer_uses(voucher_id=voucher.pk, customer_id=customer_id, email=email,
                                     exclude_order_id=exclude_order_id)
        if uses >= voucher.usage_limit_per_customer:
            return VoucherCustomerLimit
    return None


def voucher_use_info(use: VoucherUse) -> VoucherUseInfo:
    return VoucherUseInfo(voucher_code=use.voucher.code, promotion_id=use.voucher.promotion_id, order_id=use.order_id,
                          customer_id=use.customer_id, email=use.email, status=VoucherUseStatus(use.status))


def voucher_uses_of_order(*, order_id: UUID) -> tuple[VoucherUseInfo, ...]:
    uses = VoucherUse.objects.select_related("voucher").filter(order_id=order_id).order_by("voucher__code")
    return tuple(voucher_use_info(use) for use in uses)


def _problem(code: str, error) -> CodeProblem:
    return CodeProblem(voucher_code=code, problem=error.code, detail=error.title)


def voucher_usage(*, promotion_id: int | None = None) -> tuple[VoucherUsage, ...]:
    """Each voucher with its limits and how its uses stand (the usage report)."""
    vouchers = Voucher.objects.select_related("promotion").annotate(
        reserved=Count("uses", filter=Q(uses__status=VoucherUseStatus.RESERVED.value)),
        confirmed=Count("uses", filter=Q(uses__status=VoucherUseStatus.USED.value)),
        released=Count("uses", filter=Q(uses__status=VoucherUseStatus.RELEASED.value)),
    ).order_by("promotion_id", "code")
    if promotion_id is not None:
        vouchers = vouchers.filter(promotion_id=promotion_id)
    return tuple(
        VoucherUsage(code=voucher.code, promotion_id=voucher.promotion_id, promotion_name=voucher.promotion.name,
                     usage_limit=voucher.usage_limit, usage_limit_per_customer=voucher.usage_limit_per_customer,
                     used=voucher.used, reserved=voucher.reserved, confirmed=voucher.confirmed,
                     released=voucher.released)
        for voucher in vouchers
    )
