"""A cart's (or an order's) full price: discounts first, then tax on what is left, per line and on
shipping. `cart_totals` is the pure core; `cart_price` loads what it needs (settings, promotions,
vouchers, the tax calculator) and calls it. Checkout shows the result; orders freeze it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from apps.common.money import money
from apps.pricing import selectors
from apps.pricing.errors import VOUCHER_ERRORS, VoucherError, VoucherNotFound
from apps.pricing.models import voucher_code_normalize
from apps.pricing.promotions import discounts_compute
from apps.pricing.tax_ids import tax_id_zero_rates
from apps.pricing.taxes import TaxCalculator, tax_calculator
from apps.pricing.types import (
    SHIPPING_KEY,
    ZERO,
    CodeProblem,
    DiscountableLine,
    Offer,
    PricedCart,
    PricedLineTotals,
    PricedShipping,
    PriceMode,
    PricingCustomer,
    PricingLine,
    TaxableLine,
    TaxDestination,
    TaxLine,
    TaxRequest,
)


def price_mode() -> PriceMode:
    return PriceMode.GROSS if settings.PRICES_ENTERED_WITH_TAX else PriceMode.NET


def _checked(amount: Decimal, currency: str, what: str) -> Decimal:
    value = money(amount, currency)
    if value < 0:
        raise ValueError(f"{what} must not be negative.")
    return value


def _parts(*, after_discount: Decimal, tax: Decimal, mode: PriceMode) -> tuple[Decimal, Decimal]:
    """(net, gross) of an amount after discounts, entered gross or net."""
    if mode is PriceMode.GROSS:
        return after_discount - tax, after_discount
    return after_discount, after_discount + tax


def cart_totals(*, currency: str, mode: PriceMode, lines: Sequence[PricingLine], shipping: Decimal | None,
                destination: TaxDestination | None, zero_rated: bool, offers: Sequence[Offer],
                problems: Sequence[CodeProblem] = (), now: datetime, calculator: TaxCalculator) -> PricedCart:
    """Price the lines and shipping: promotions (apps.pricing.promotions), then tax per line and
    on shipping on the discounted amounts (the calculator). No database of its own."""
    lines = [PricingLine(key=line.key, sku=line.sku, category=line.category, tax_class=line.tax_class,
                         amount=_checked(line.amount, currency, f"Line {line.key}")) for line in lines]
    if len({line.key for line in lines}) != len(lines):
        raise ValueError("Line keys must be unique.")
    shipping = None if shipping is None else _checked(shipping, currency, "Shipping")

    outcome = discounts_compute(
        currency=currency, shipping=shipping, now=now, offers=offers, problems=problems,
        lines=[DiscountableLine(key=line.key, sku=line.sku, category=line.category, amount=line.amount)
               for line in lines])
    discounted: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for discount in outcome.discounts:
        for key, share in discount.allocations:
            discounted[key] += share

    request = TaxRequest(
        currency=currency, mode=mode, destination=destination, zero_rated=zero_rated,
        shipping=None if shipping is None else shipping - discounted[SHIPPING_KEY],
        lines=tuple(TaxableLine(key=line.key, tax_class=line.tax_class, amount=line.amount - discounted[line.key])
                    for line in lines))
    taxes = calculator.taxes_calculate(request)
    if [tax.key for tax in taxes.lines] != [line.key for line in lines] or (taxes.shipping is None) != (
            shipping is None):
        raise ValueError(f"The tax calculator {calculator.name!r} did not answer one tax line per line and shipping.")

    priced_lines = []
    for line, taxable, tax in zip(lines, request.lines, taxes.lines, strict=True):
        net, gross = _parts(after_discount=taxable.amount, tax=tax.amount, mode=mode)
        priced_lines.append(PricedLineTotals(key=line.key, tax_class=tax.tax_class, tax_rate=tax.rate,
                                             amount=line.amount, discount=discounted[line.key], net=net,
                                             tax=tax.amount, gross=gross))
    shipping_line = None
    tax_lines: list[TaxLine] = list(taxes.lines)
    if shipping is not None:
        tax_lines.append(taxes.shipping)
        net, gross = _parts(after_discount=request.shipping, tax=taxes.shipping.amount, mode=mode)
        shipping_line = PricedShipping(tax_rate=taxes.shipping.rate, amount=shipping,
                                       discount=discounted[SHIPPING_KEY], net=net, tax=taxes.shipping.amount,
                                       gross=gross)

    subtotal = sum((line.amount for line in lines), ZERO)
    shipping_amount = shipping if shipping is not None else ZERO
    discount = sum((line.amount for line in outcome.discounts), ZERO)
    tax = sum((line.amount for line in tax_lines), ZERO)
    total = subtotal + shipping_amount - discount + (tax if mode is PriceMode.NET else ZERO)
    zero = money(ZERO, currency)
    return PricedCart(
        currency=currency, mode=mode, lines=tuple(priced_lines), shipping_line=shipping_line,
        discount_lines=outcome.discounts, tax_lines=tuple(tax_lines), code_problems=outcome.problems,
        applied_codes=tuple(line.voucher_code for line in outcome.discounts if line.voucher_code),
        zero_rated=zero_rated, subtotal=subtotal + zero, shipping=shipping_amount + zero, discount=discount + zero,
        tax=tax + zero, total=total + zero)


def cart_price(*, currency: str, lines: Sequence[PricingLine], shipping: Decimal | None,
               address: TaxDestination | None, customer: PricingCustomer | None, codes: Sequence[str] = (),
               now: datetime | None = None, order_id: UUID | None = None, strict_codes: bool = False) -> PricedCart:
    """Price a cart with the promotions that apply automatically and those its codes unlock, taxed
    for the shipping address (before one is known: TAX_ORIGIN_COUNTRY's rates, if set).

    A code that gives no discount is reported in `code_problems` (the cart shows why); with
    `strict_codes` (completion) the first such code raises its VoucherError (422) instead.
    `order_id`: the order being placed from this cart, whose own voucher uses do not count
    against the codes' limits (a retried completion)."""
    now = now or timezone.now()
    customer = customer or PricingCustomer(id=None)
    destination = address
    if destination is None and settings.TAX_ORIGIN_COUNTRY:
        destination = TaxDestination(country=settings.TAX_ORIGIN_COUNTRY)
    zero_rated = tax_id_zero_rates(tax_id=customer.tax_id, destination_country=address.country if address else None,
                                   origin_country=settings.TAX_ORIGIN_COUNTRY,
                                   reverse_charge=settings.TAX_REVERSE_CHARGE)
    voucher_offers, problems = selectors.voucher_offers(codes=codes, customer_id=customer.id, email=customer.email,
                                                        now=now, order_id=order_id)
    offers = selectors.automatic_offers(currency=currency, now=now) + voucher_offers
    priced = cart_totals(currency=currency, mode=price_mode(), lines=lines, shipping=shipping,
                         destination=destination, zero_rated=zero_rated, offers=offers, problems=problems, now=now,
                         calculator=tax_calculator())
    if strict_codes and priced.code_problems:
        code_problem_raise(priced.code_problems[0])
    return priced


def code_problem_error(problem: CodeProblem) -> VoucherError:
    """The VoucherError (422, stable code) a priced cart reports for one of its codes."""
    return VOUCHER_ERRORS[problem.problem](problem.detail, extra={"voucher_code": problem.voucher_code})


def code_problem_raise(problem: CodeProblem) -> None:
    raise code_problem_error(problem)


def voucher_check(*, code: str, currency: str, lines: Sequence[PricingLine], shipping: Decimal | None,
                  address: TaxDestination | None, customer: PricingCustomer | None, codes: Sequence[str] = (),
                  now: datetime | None = None) -> PricedCart:
    """Before a cart keeps a new code: the cart priced with it, or its VoucherError (422) when the
    code gives no discount (unknown, expired, exhausted, not for this cart, beaten by a better
    promotion that does not combine). The cart's other codes (`codes`) are priced as usual."""
    normalized = voucher_code_normalize(code)
    if not normalized:
        raise VoucherNotFound(extra={"voucher_code": normalized})
    priced = cart_price(currency=currency, lines=lines, shipping=shipping, address=address, customer=customer,
                        codes=[*codes, code], now=now)
    for problem in priced.code_problems:
        if problem.voucher_code == normalized:
            code_problem_raise(problem)
    return priced
