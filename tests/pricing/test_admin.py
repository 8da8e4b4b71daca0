"""Staff keep tax rates, promotions and vouchers in the admin, each behind its permission, and
see how vouchers are used; what only the services write stays read-only."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client

from apps.pricing import api as pricing
from apps.pricing.models import Promotion, TaxRate, Voucher
from tests.pricing.factories import PromotionFactory, VoucherFactory

pytestmark = pytest.mark.django_db

RATES, PROMOTIONS, VOUCHERS, USES, CLASSES = ("/admin/pricing/taxrate/", "/admin/pricing/promotion/",
                                              "/admin/pricing/voucher/", "/admin/pricing/voucheruse/",
                                              "/admin/pricing/taxclass/")
MANAGE = [f"pricing.{action}_{model}" for action in ("view", "add", "change", "delete")
          for model in ("taxclass", "taxrate", "promotion", "voucher")] + ["pricing.view_voucheruse"]


def admin_of(staff_with, *codenames) -> Client:
    client = Client()
    client.force_login(staff_with(*codenames))
    return client


def promotion_form(**fields) -> dict:
    data = {"name": "Spring", "kind": "percentage", "scope": "order", "categories": "", "skus": "", "value": "15",
            "currency": "", "min_subtotal": "", "starts_at_0": "", "starts_at_1": "", "ends_at_0": "", "ends_at_1": "",
            "combinable": "", "applies_automatically": "", "active": "on",
            "vouchers-TOTAL_FORMS": "1", "vouchers-INITIAL_FORMS": "0", "vouchers-MIN_NUM_FORMS": "0",
            "vouchers-MAX_NUM_FORMS": "1000",
            "vouchers-0-code": "spring15", "vouchers-0-usage_limit": "100", "vouchers-0-usage_limit_per_customer": "1"}
    return {**data, **fields}


def test_staff_enter_a_regional_rate_with_decimals(staff_with):
    client = admin_of(staff_with, *MANAGE)

    response = client.post(f"{RATES}add/", {"country": "us", "region": " ca", "tax_class": "standard", "rate": "7.25"})

    assert response.status_code == 302
    rate = TaxRate.objects.get()
    assert (rate.country, rate.region, rate.tax_class_id, rate.rate) == ("US", "CA", "standard", Decimal("7.25"))
    assert client.post(f"{RATES}add/", {"country": "USA", "region": "", "tax_class": "standard",
                                        "rate": "5"}).status_code == 200  # not an ISO alpha-2 code
    assert client.post(f"{RATES}add/", {"country": "DE", "region": "", "tax_class": "standard",
                                        "rate": "101"}).status_code == 200


def test_staff_create_a_promotion_with_its_voucher_on_one_page(staff_with):
    client = admin_of(staff_with, *MANAGE)

    response = client.post(f"{PROMOTIONS}add/", promotion_form(scope="categories", categories="Books, garden"))

    assert response.status_code == 302
    promotion = Promotion.objects.get()
    assert (promotion.scope, promotion.categories, promotion.value) == ("categories", ["books", "garden"],
                                                                        Decimal("15"))
    voucher = Voucher.objects.get()
    assert (voucher.code, voucher.usage_limit, voucher.usage_limit_per_customer, voucher.used) == (
        "SPRING15", 100, 1, 0)


def test_a_code_taken_in_another_case_and_incomplete_promotions_are_refused(staff_with):
    client = admin_of(staff_with, *MANAGE)
    VoucherFactory(code="SPRING15")

    duplicate = client.post(f"{PROMOTIONS}add/", promotion_form())
    no_currency = client.post(f"{PROMOTIONS}add/", promotion_form(kind="fixed_amount", value="5",
                                                                  **{"vouchers-TOTAL_FORMS": "0"}))
    too_much = client.post(f"{PROMOTIONS}add/", promotion_form(value="120", **{"vouchers-TOTAL_FORMS": "0"}))
    yen_cents = client.post(f"{PROMOTIONS}add/", promotion_form(kind="fixed_amount", value="5.50", currency="jpy",
                                                                **{"vouchers-TOTAL_FORMS": "0"}))

    for page in (duplicate, no_currency, too_much, yen_cents):
        assert page.status_code == 200
    assert b"already exists" in duplicate.content
    assert b"A fixed amount needs its currency." in no_currency.content
    assert b"at most 100" in too_much.content
    assert b"at most 0 decimal places" in yen_cents.content
    assert Promotion.objects.count() == 1  # the factory's


def test_the_use_counter_and_the_ledger_are_read_only_and_a_used_voucher_cannot_be_deleted(staff_with):
    client = admin_of(staff_with, *MANAGE)
    voucher = VoucherFactory(code="USED", usage_limit=5)
    pricing.voucher_use_reserve(code="USED", order_id=uuid.uuid4(), customer_id=3, email="c@example.com")

    page = client.get(f"{VOUCHERS}{voucher.pk}/change/")
    form = {"code": "USED", "promotion": voucher.promotion_id, "usage_limit": "5", "usage_limit_per_customer": "",
            "used": "0", "uses-TOTAL_FORMS": "0", "uses-INITIAL_FORMS": "0"}
    saved = client.post(f"{VOUCHERS}{voucher.pk}/change/", form)
    voucher.refresh_from_db()

    assert page.status_code == 200 and b"c@example.com" in page.content
    assert saved.status_code == 302
    assert voucher.used == 1
    assert client.get(f"{VOUCHERS}{voucher.pk}/delete/").status_code == 403
    assert client.get(USES).status_code == 200
    assert client.get(f"{USES}add/").status_code == 403


def test_staff_without_pricing_permissions_cannot_open_the_pages_and_seeded_classes_stay(staff_with):
    outsider = admin_of(staff_with, "orders.view_order")
    keeper = admin_of(staff_with, *MANAGE)
    PromotionFactory()

    for url in (RATES, PROMOTIONS, VOUCHERS, USES):
        assert outsider.get(url).status_code == 403
    assert keeper.get(f"{CLASSES}standard/delete/").status_code == 403
    assert keeper.post(f"{CLASSES}add/", {"code": "books", "name": "Books", "exempt": ""}).status_code == 302
    assert keeper.get(f"{CLASSES}books/delete/").status_code == 200
