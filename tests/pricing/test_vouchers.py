"""Voucher codes: applied to a cart (or refused with a stable 422 code), and their uses taken at
placement, confirmed, and given back once."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from apps.pricing import api as pricing
from apps.pricing.models import Voucher
from tests.pricing.factories import PromotionFactory, VoucherFactory
from tests.pricing.helpers import NOW, line

pytestmark = pytest.mark.django_db

CART = [line("A", "100.00", category="books")]
ALICE = pricing.PricingCustomer(id=7, email="alice@example.com")
BOB = pricing.PricingCustomer(id=8, email="bob@example.com")


def check(code, *, customer=ALICE, lines=CART, codes=()):
    return pricing.voucher_check(code=code, currency="EUR", lines=lines, shipping=Decimal("5.00"), address=None,
                                 customer=customer, codes=codes, now=NOW)


def refused(code, **kwargs) -> pricing.VoucherError:
    with pytest.raises(pricing.VoucherError) as caught:
        check(code, **kwargs)
    assert caught.value.status == 422
    assert caught.value.extra == {"voucher_code": code.strip().upper()}
    return caught.value


def reserve(code, order_id=None, customer=ALICE):
    return pricing.voucher_use_reserve(code=code, order_id=order_id or uuid.uuid4(), customer_id=customer.id,
                                       email=customer.email, now=NOW)


@pytest.fixture(autouse=True)
def _net_prices_without_origin(settings):
    settings.PRICES_ENTERED_WITH_TAX, settings.TAX_ORIGIN_COUNTRY = False, ""


def test_a_code_applies_whatever_its_case_and_the_cart_shows_its_discount():
    VoucherFactory(code="summer10", promotion=PromotionFactory(value=Decimal("10")))

    priced = check("  Summer10 ")

    assert Voucher.objects.get().code == "SUMMER10"
    assert priced.applied_codes == ("SUMMER10",)
    assert (priced.discount, priced.total) == (Decimal("10.00"), Decimal("95.00"))


def test_an_unknown_code_or_one_whose_promotion_is_switched_off_is_not_found():
    VoucherFactory(code="OFF", promotion=PromotionFactory(active=False))

    assert refused("NOPE").code == "voucher_not_found"
    assert refused("  ").code == "voucher_not_found"
    assert refused("off").code == "voucher_not_found"


def test_a_code_before_its_promotion_starts_or_after_it_ends_is_refused():
    VoucherFactory(code="SOON", promotion=PromotionFactory(starts_at=NOW + timedelta(hours=1)))
    VoucherFactory(code="GONE", promotion=PromotionFactory(ends_at=NOW - timedelta(hours=1)))

    assert refused("SOON").code == "voucher_not_yet_valid"
    assert refused("GONE").code == "voucher_expired"


def test_a_code_with_no_uses_left_is_exhausted_until_a_use_is_given_back():
    VoucherFactory(code="ONCE", usage_limit=1)
    order = uuid.uuid4()
    reserve("ONCE", order, customer=BOB)

    assert refused("ONCE").code == "voucher_exhausted"
    with pytest.raises(pricing.VoucherExhausted):
        reserve("ONCE")
    assert pricing.voucher_use_release(order_id=order) == 1
    assert check("ONCE").applied_codes == ("ONCE",)


def test_a_customer_over_the_per_customer_limit_is_refused_by_account_and_by_email():
    VoucherFactory(code="WELCOME", usage_limit_per_customer=1)
    reserve("WELCOME", customer=ALICE)

    assert refused("WELCOME", customer=ALICE).code == "voucher_customer_limit"
    assert refused("WELCOME", customer=pricing.PricingCustomer(id=None, email="Alice@Example.com")).code == (
        "voucher_customer_limit")
    assert check("WELCOME", customer=BOB).applied_codes == ("WELCOME",)
    with pytest.raises(pricing.VoucherCustomerLimit):
        reserve("WELCOME", customer=ALICE)


def test_a_code_that_does_not_fit_the_cart_is_not_applicable():
    VoucherFactory(code="MIN200", promotion=PromotionFactory(currency="EUR", min_subtotal=Decimal("200")))
    VoucherFactory(code="KITCHEN", promotion=PromotionFactory(scope="categories", categories=["kitchen"]))
    VoucherFactory(code="DOLLARS", promotion=PromotionFactory(kind="fixed_amount", value=Decimal(5), currency="USD"))

    for code in ("MIN200", "KITCHEN", "DOLLARS"):
        assert refused(code).code == "voucher_not_applicable"


def test_a_code_beaten_by_a_better_promotion_that_does_not_combine_is_refused():
    VoucherFactory(code="FIVE", promotion=PromotionFactory(value=Decimal("5")))
    PromotionFactory(name="Sale", value=Decimal("20"), applies_automatically=True)

    assert refused("FIVE").code == "voucher_not_combinable"


def test_promotions_without_a_code_apply_automatically_while_they_run():
    PromotionFactory(name="Summer sale", value=Decimal("15"), applies_automatically=True, currency="EUR")
    PromotionFactory(name="Over", value=Decimal("50"), applies_automatically=True, ends_at=NOW)
    PromotionFactory(name="Dollar sale", value=Decimal("50"), applies_automatically=True, currency="USD")
    PromotionFactory(name="Code only", value=Decimal("50"))

    priced = pricing.cart_price(currency="EUR", lines=CART, shipping=None, address=None, customer=None, now=NOW)

    assert [(d.promotion_name, d.voucher_code, d.amount) for d in priced.discount_lines] == [
        ("Summer sale", None, Decimal("15.00"))]


def test_a_cart_shows_why_a_kept_code_no_longer_applies_and_completion_refuses_it():
    VoucherFactory(code="MIN100", promotion=PromotionFactory(currency="EUR", min_subtotal=Decimal("100")))
    smaller = [line("A", "99.00")]

    shown = pricing.cart_price(currency="EUR", lines=smaller, shipping=None, address=None, customer=ALICE,
                               codes=["MIN100"], now=NOW)

    assert [(p.voucher_code, p.problem) for p in shown.code_problems] == [("MIN100", "voucher_not_applicable")]
    assert shown.total == Decimal("99.00")
    with pytest.raises(pricing.VoucherNotApplicable):
        pricing.cart_price(currency="EUR", lines=smaller, shipping=None, address=None, customer=ALICE,
                           codes=["MIN100"], now=NOW, strict_codes=True)


def test_a_retried_completion_is_not_refused_for_the_use_its_own_order_holds():
    VoucherFactory(code="LAST", usage_limit=1, usage_limit_per_customer=1)
    order = uuid.uuid4()
    reserve("LAST", order)

    again = pricing.cart_price(currency="EUR", lines=CART, shipping=None, address=None, customer=ALICE,
                               codes=["LAST"], now=NOW, order_id=order, strict_codes=True)

    assert again.applied_codes == ("LAST",)


def test_reserving_is_idempotent_per_order_and_confirm_then_release_gives_the_use_back_once():
    voucher = VoucherFactory(code="TEN", usage_limit=10)
    order = uuid.uuid4()

    first = reserve("ten", order)
    second = reserve("TEN", order)
    voucher.refresh_from_db()
    assert first == second
    assert (first.status, voucher.used) == (pricing.VoucherUseStatus.RESERVED, 1)

    assert pricing.voucher_use_confirm(order_id=order) == 1
    assert pricing.voucher_uses_of_order(order_id=order)[0].status is pricing.VoucherUseStatus.USED
    assert [pricing.voucher_use_release(order_id=order) for _ in range(3)] == [1, 0, 0]
    voucher.refresh_from_db()
    assert voucher.used == 0
    assert reserve("TEN", order).status is pricing.VoucherUseStatus.RELEASED  # a released order stays released


@pytest.mark.parametrize("first", [False, True], ids=["any call", "the order's first call"])
def test_an_order_s_codes_are_all_taken_or_none(first):
    VoucherFactory(code="FREE", promotion=PromotionFactory(kind="free_shipping", combinable=True))
    VoucherFactory(code="GONE", promotion=PromotionFactory(ends_at=NOW - timedelta(days=1), combinable=True))
    order = uuid.uuid4()

    with pytest.raises(pricing.VoucherExpired):
        pricing.voucher_uses_reserve(codes=["free", "gone"], order_id=order, customer_id=7, email="a@example.com",
                                     now=NOW, first=first)

    assert pricing.voucher_uses_of_order(order_id=order) == ()
    assert Voucher.objects.get(code="FREE").used == 0


def test_a_first_reservation_repeated_for_the_same_order_still_takes_one_use():
    # The fast path for an order's first reservation reads nothing first: a repeat must still
    # find the order's use (by the duplicate) and not take a second one.
    voucher = VoucherFactory(code="TEN", usage_limit=10, usage_limit_per_customer=1)
    order = uuid.uuid4()

    uses = [pricing.voucher_uses_reserve(codes=["ten"], order_id=order, customer_id=7, email="a@example.com",
                                         now=NOW, first=True) for _ in range(2)]

    voucher.refresh_from_db()
    assert uses[0] == uses[1]
    assert (uses[0][0].status, voucher.used) == (pricing.VoucherUseStatus.RESERVED, 1)


def test_the_usage_report_counts_each_voucher_s_uses_by_status():
    promotion = PromotionFactory(name="Spring")
    VoucherFactory(code="SPRING", promotion=promotion, usage_limit=5)
    orders = [uuid.uuid4() for _ in range(3)]
    for order in orders:
        reserve("SPRING", order)
    pricing.voucher_use_confirm(order_id=orders[0])
    pricing.voucher_use_release(order_id=orders[1])

    (usage,) = pricing.voucher_usage(promotion_id=promotion.pk)

    assert (usage.code, usage.promotion_name, usage.usage_limit, usage.used) == ("SPRING", "Spring", 5, 2)
    assert (usage.reserved, usage.confirmed, usage.released) == (1, 1, 1)


def test_voucher_problem_types_are_documented_as_422(client):
    for code in ("voucher_not_found", "voucher_expired", "voucher_not_yet_valid", "voucher_exhausted",
                 "voucher_customer_limit", "voucher_not_applicable", "voucher_not_combinable"):
        response = client.get(f"/problems/{code}")
        assert response.status_code == 200
        assert response.json()["status"] == 422
