"""Which promotions a cart gets, and each one's discount prorated over what it applies to. Pure:
the caller loads the offers (apps.pricing.selectors) and passes the time.

Rules:
- an offer is a promotion that applies automatically (`applies_automatically`, no code) or one a
  voucher code unlocks; a promotion applies at most once, however many of its codes are given;
- it is eligible while active and running (starts_at <= now < ends_at), in the cart's currency
  (a promotion without currency fits any), at or above its minimum subtotal (the lines as
  entered, before any discount), and when the cart has a line in its scope;
- combinable promotions apply together, one after the other on what the previous ones left:
  line-scoped (categories, products) first, then order-wide, then free shipping; a promotion
  that does not combine applies alone. The cart gets whichever of these choices discounts most
  (all combinable ones together, or the best single non-combinable one); a code left out is
  reported as `voucher_not_combinable`;
- a percentage is rounded once, on the whole base, then split over the lines in proportion to
  what is left of them (largest remainder), so the shares sum exactly to the discount; a fixed
  amount is capped at its base; free shipping discounts what shipping costs. No discount ever
  exceeds what it applies to: a line never goes below zero."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from apps.common.money import money_round
from apps.pricing.amounts import apportion
from apps.pricing.errors import (
    VoucherError,
    VoucherExpired,
    VoucherNotApplicable,
    VoucherNotCombinable,
    VoucherNotFound,
    VoucherNotYetValid,
)
from apps.pricing.types import (
    SHIPPING_KEY,
    ZERO,
    CodeProblem,
    DiscountableLine,
    DiscountLine,
    DiscountOutcome,
    Offer,
    PromotionKind,
    PromotionRule,
    PromotionScope,
)

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Refusal:
    """Why an offer does not apply: the voucher error and a sentence for the customer."""

    error: type[VoucherError]
    detail: str


def rule_window_problem(rule: PromotionRule, *, now: datetime) -> type[VoucherError] | None:
    """Whether the promotion runs at `now` (the error class when it does not)."""
    if not rule.active:
        return VoucherNotFound
    if rule.starts_at is not None and now < rule.starts_at:
        return VoucherNotYetValid
    if rule.ends_at is not None and now >= rule.ends_at:
        return VoucherExpired
    return None


def line_in_scope(rule: PromotionRule, line: DiscountableLine) -> bool:
    if rule.scope is PromotionScope.CATEGORIES:
        return line.category is not None and line.category in rule.categories
    if rule.scope is PromotionScope.PRODUCTS:
        return line.sku in rule.skus
    return True


def rule_cart_refusal(rule: PromotionRule, *, currency: str, subtotal: Decimal,
                      lines: Sequence[DiscountableLine]) -> Refusal | None:
    """Whether the promotion fits this cart: currency, minimum subtotal, scope."""
    if rule.currency and rule.currency != currency:
        return Refusal(VoucherNotApplicable, f"This promotion applies to carts in {rule.currency} only.")
    if rule.min_subtotal is not None and subtotal < rule.min_subtotal:
        minimum = money_round(rule.min_subtotal, currency)
        return Refusal(VoucherNotApplicable, f"This promotion needs a subtotal of at least {minimum} {currency}.")
    if rule.scope is not PromotionScope.ORDER and not any(line_in_scope(rule, line) for line in lines):
        return Refusal(VoucherNotApplicable, "No product in the cart is part of this promotion.")
    return None


def offer_refusal(offer: Offer, *, currency: str, subtotal: Decimal, lines: Sequence[DiscountableLine],
                  now: datetime) -> Refusal | None:
    window = rule_window_problem(offer.rule, now=now)
    if window is not None:
        return Refusal(window, window.title)
    return rule_cart_refusal(offer.rule, currency=currency, subtotal=subtotal, lines=lines)


def _sequence_key(offer: Offer) -> tuple[int, int, str]:
    rule = offer.rule
    if rule.kind is PromotionKind.FREE_SHIPPING:
        return 2, rule.id, offer.voucher_code or ""
    return (1 if rule.scope is PromotionScope.ORDER else 0), rule.id, offer.voucher_code or ""


def discounts_apply(offers: Sequence[Offer], *, currency: str, lines: Sequence[DiscountableLine],
                    shipping: Decimal | None) -> tuple[DiscountLine, ...]:
    """The offers one after the other, each on what the previous ones left (see the module's rules)."""
    remaining = {line.key: line.amount for line in lines}
    remaining_shipping = shipping if shipping is not None else ZERO
    applied = []
    for offer in sorted(offers, key=_sequence_key):
        rule = offer.rule
        if rule.kind is PromotionKind.FREE_SHIPPING:
            amount = remaining_shipping
            allocations = ((SHIPPING_KEY, amount),) if amount else ()
            remaining_shipping -= amount
        else:
            keys = [line.key for line in lines if line_in_scope(rule, line)]
            base = sum((remaining[key] for key in keys), ZERO)
            if rule.kind is PromotionKind.PERCENTAGE:
                amount = money_round(base * rule.value / HUNDRED, currency)
            else:
                amount = money_round(rule.value, currency)
            amount = min(amount, base)
            allocations = apportion(amount, [(key, remaining[key]) for key in keys], currency)
            for key, share in allocations:
                remaining[key] -= share
        applied.append(DiscountLine(promotion_id=rule.id, promotion_name=rule.name, kind=rule.kind,
                                    voucher_code=offer.voucher_code, amount=amount, allocations=allocations))
    return tuple(applied)


def _plan_rank(plan: tuple[DiscountLine, ...]) -> tuple[Decimal, int]:
    return sum((line.amount for line in plan), ZERO), len(plan)


def discounts_compute(*, currency: str, lines: Sequence[DiscountableLine], shipping: Decimal | None,
                      now: datetime, offers: Sequence[Offer], problems: Sequence[CodeProblem] = ()) -> DiscountOutcome:
    """The discounts the cart gets from the offers, and the codes that give none (with why).
    `problems` are the codes the caller already refused (unknown, exhausted, ...)."""
    if any(line.key == SHIPPING_KEY for line in lines):
        raise ValueError(f"A line must not use the key {SHIPPING_KEY!r}.")
    subtotal = sum((line.amount for line in lines), ZERO)
    refused = list(problems)
    eligible: list[Offer] = []
    promotions_seen: set[int] = set()
    for offer in offers:
        if offer.rule.id in promotions_seen:
            if offer.voucher_code:
                refused.append(CodeProblem(offer.voucher_code, VoucherNotCombinable.code,
                                           "Another code of the same promotion is already applied."))
            continue
        refusal = offer_refusal(offer, currency=currency, subtotal=subtotal, lines=lines, now=now)
        if refusal is not None:
            if offer.voucher_code:
                refused.append(CodeProblem(offer.voucher_code, refusal.error.code, refusal.detail))
            continue
        promotions_seen.add(offer.rule.id)
        eligible.append(offer)

    combinable = [offer for offer in eligible if offer.rule.combinable]
    plans = [discounts_apply(combinable, currency=currency, lines=lines, shipping=shipping)]
    plans += [discounts_apply([offer], currency=currency, lines=lines, shipping=shipping)
              for offer in eligible if not offer.rule.combinable]
    # The most discount; on a tie, more promotions honoured; then the earlier plan (combinable first).
    best = max(range(len(plans)), key=lambda index: (*_plan_rank(plans[index]), -index))
    chosen = plans[best]
    chosen_codes = {line.voucher_code for line in chosen if line.voucher_code}
    for offer in eligible:
        if offer.voucher_code and offer.voucher_code not in chosen_codes:
            refused.append(CodeProblem(offer.voucher_code, VoucherNotCombinable.code, VoucherNotCombinable.title))
    return DiscountOutcome(discounts=chosen, problems=tuple(refused))
