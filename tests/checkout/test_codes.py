"""Voucher codes on carts over HTTP: applied and removed with the cart's ETag, every reason a code
is refused as a 422 with its stable code (nothing changed), a code that stops working shown in
`code_problems` and not counted, and the discount frozen on the order with its use taken."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from apps.pricing import api as pricing_api
from apps.pricing.models import Promotion, Voucher, VoucherUse
from tests.catalog.factories import CategoryFactory
from tests.checkout.conftest import BERLIN, apply_code, cart_create, cart_url, line, remove_code, token_header
from tests.pricing.factories import PromotionFactory, VoucherFactory

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def goods(product):
    product("LAMP", price="19.99")
    product("BOOK", price="12.00", tax_class="reduced")


@pytest.fixture
def welcome(db):
    """WELCOME10: 10 % off the order, 100 uses."""
    return VoucherFactory(code="WELCOME10", usage_limit=100, promotion=PromotionFactory(name="Welcome", value=10))


def ready(client, shipping, *lines):
    cart = cart_create(client)
    for sku, quantity in lines or (("LAMP", 1), ("BOOK", 2)):
        assert cart.add(sku, quantity).status_code == 200
    assert cart.patch({"shipping_address": BERLIN, "shipping_method_id": shipping["flat"].pk}).status_code == 200
    return cart


def complete(cart, *, token="tok_approved", key=None, email="erika@example.com"):
    return cart.client.post(cart_url(cart.id, "complete/"), {"payment_token": token, "email": email}, format="json",
                            HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex, **token_header(cart.token))


def test_a_code_applies_a_discount_shared_over_the_lines_and_comes_off_again(api_client, tax_rates, goods, shipping,
                                                                             welcome):
    cart = ready(api_client, shipping)  # 19.99 + 2 x 12.00 = 43.99, shipping 4.90
    before = cart.etag

    # When the guest applies the code in lower case
    response = apply_code(cart, "welcome10")

    # Then the cart keeps it and gets 10 % off, shared over the lines to the cent
    assert response.status_code == 200, response.content
    body = response.json()
    assert response.headers["ETag"] != before
    assert body["voucher_codes"] == ["WELCOME10"] and body["code_problems"] == []
    (discount,) = body["discount_lines"]
    assert (discount["promotion_name"], discount["kind"], discount["voucher_code"], discount["amount"]) == (
        "Welcome", "percentage", "WELCOME10", "4.40")
    shares = {share["key"]: share["amount"] for share in discount["allocations"]}
    assert shares == {"LAMP": "2.00", "BOOK": "2.40"}
    assert (line(body, "LAMP")["discount"], line(body, "BOOK")["discount"]) == ("2.00", "2.40")
    # and tax is charged on what is left of each line: 19 % of 17.99, 7 % of 21.60, 19 % of shipping
    assert (line(body, "LAMP")["tax"], line(body, "BOOK")["tax"]) == ("3.42", "1.51")
    assert (body["subtotal"], body["shipping"], body["discount"], body["tax"], body["total"]) == (
        "43.99", "4.90", "4.40", "5.86", "50.35")

    # When it is removed (any case), the cart is back to its full price
    removed = remove_code(cart, "Welcome10")
    assert removed.status_code == 200
    assert (removed.json()["voucher_codes"], removed.json()["discount"], removed.json()["total"]) == (
        [], "0.00", "55.30")
    assert remove_code(cart, "WELCOME10").status_code == 404


def test_applying_a_code_needs_the_carts_etag_and_a_second_time_changes_nothing(api_client, goods, shipping, welcome):
    cart = ready(api_client, shipping)
    stale = cart.etag
    cart.add("LAMP")

    assert apply_code(cart, "WELCOME10", etag=stale).status_code == 412
    no_etag = api_client.post(cart_url(cart.id, "codes/"), {"code": "WELCOME10"}, format="json",
                              **token_header(cart.token))
    assert no_etag.status_code == 428
    assert apply_code(cart, "WELCOME10").status_code == 200
    version = cart.etag
    again = apply_code(cart, "WELCOME10")
    assert again.status_code == 200 and again.headers["ETag"] == version
    assert cart.body()["voucher_codes"] == ["WELCOME10"]


def test_another_callers_cart_takes_no_code(api_client, customer_client, goods, shipping, welcome):
    cart = ready(customer_client, shipping)

    response = api_client.post(cart_url(cart.id, "codes/"), {"code": "WELCOME10"}, format="json",
                               HTTP_IF_MATCH=cart.etag)

    assert response.status_code == 404
    assert cart.body()["voucher_codes"] == []


def _reserved_elsewhere(code, *, customer_id=None, email=""):
    pricing_api.voucher_use_reserve(code=code, order_id=uuid.uuid4(), customer_id=customer_id, email=email)


def refusals():
    """name -> (set up a voucher named CODE that the cart cannot use, the expected problem code)."""
    now = timezone.now()

    def expired():
        VoucherFactory(code="CODE", promotion=PromotionFactory(ends_at=now - timedelta(minutes=1)))

    def not_yet_valid():
        VoucherFactory(code="CODE", promotion=PromotionFactory(starts_at=now + timedelta(days=1)))

    def exhausted():
        VoucherFactory(code="CODE", usage_limit=1)
        _reserved_elsewhere("CODE")

    def customer_limit():
        VoucherFactory(code="CODE", usage_limit_per_customer=1)
        _reserved_elsewhere("CODE", customer_id=None, email="customer@example.com")

    def not_applicable():
        VoucherFactory(code="CODE", promotion=PromotionFactory(currency="EUR", min_subtotal=Decimal("100.00")))

    def not_combinable():
        PromotionFactory(name="Summer sale", value=20, applies_automatically=True)  # beats 10 %, combines with nothing
        VoucherFactory(code="CODE", promotion=PromotionFactory(value=10))

    def inactive():
        VoucherFactory(code="CODE", promotion=PromotionFactory(active=False))

    return {"unknown": (lambda: None, "voucher_not_found"), "inactive": (inactive, "voucher_not_found"),
            "expired": (expired, "voucher_expired"), "not yet valid": (not_yet_valid, "voucher_not_yet_valid"),
            "used up": (exhausted, "voucher_exhausted"), "customer's limit": (customer_limit, "voucher_customer_limit"),
            "below the minimum subtotal": (not_applicable, "voucher_not_applicable"),
            "beaten by a promotion that does not combine": (not_combinable, "voucher_not_combinable")}


@pytest.mark.parametrize("reason", list(refusals()))
def test_a_code_that_would_give_nothing_is_a_422_with_its_stable_code_and_changes_nothing(
        reason, customer, customer_client, goods, shipping):
    setup, expected = refusals()[reason]
    setup()
    cart = ready(customer_client, shipping)  # the customer's email is customer@example.com
    before = cart.body()

    response = apply_code(cart, "code")

    assert response.status_code == 422, response.content
    problem = response.json()
    assert (problem["code"], problem["voucher_code"]) == (expected, "CODE")
    assert problem["type"].endswith(f"/problems/{expected}")
    assert response.headers["Content-Type"].startswith("application/problem+json")
    after = cart.body()
    assert (after["version"], after["voucher_codes"], after["total"]) == (before["version"], [], before["total"])


def test_a_blank_code_is_refused(api_client, goods, shipping):
    cart = ready(api_client, shipping)

    assert apply_code(cart, "   ").status_code in (400, 422)
    assert cart.body()["voucher_codes"] == []


def test_a_code_that_stops_working_shows_as_a_problem_is_not_counted_and_blocks_completion_until_removed(
        api_client, goods, shipping, welcome):
    # Given a cart that applied WELCOME10
    cart = ready(api_client, shipping)
    assert apply_code(cart, "WELCOME10").json()["discount"] == "4.40"

    # When the promotion ends
    Promotion.objects.filter(pk=welcome.promotion_id).update(ends_at=timezone.now() - timedelta(seconds=1))

    # Then the cart still holds the code, says why it gives nothing, and does not count it
    body = cart.body()
    assert body["voucher_codes"] == ["WELCOME10"]
    assert [(problem["voucher_code"], problem["code"]) for problem in body["code_problems"]] == [
        ("WELCOME10", "voucher_expired")]
    assert (body["discount"], body["discount_lines"], body["total"]) == ("0.00", [], "48.89")
    # and completing it is a 422 naming the code, the cart open with the reason and nothing held
    response = complete(cart)
    assert (response.status_code, response.json()["code"], response.json()["voucher_code"]) == (
        422, "voucher_expired", "WELCOME10")
    body = cart.body()
    assert (body["status"], body["last_failure"]["code"], body["last_failure"]["voucher_code"]) == (
        "open", "voucher_expired", "WELCOME10")
    assert VoucherUse.objects.count() == 0
    # until the code is removed
    assert remove_code(cart, "WELCOME10").status_code == 200
    assert complete(cart).status_code == 201


def test_a_free_shipping_code_takes_shipping_and_its_tax_off(api_client, tax_rates, goods, shipping):
    VoucherFactory(code="SHIPFREE", promotion=PromotionFactory(kind="free_shipping", value=0))
    cart = ready(api_client, shipping, ("BOOK", 1))  # 12.00, shipping 4.90 taxed 0.93

    body = apply_code(cart, "SHIPFREE").json()

    assert [(share["key"], share["amount"]) for share in body["discount_lines"][0]["allocations"]] == [
        ("shipping", "4.90")]
    assert [(tax["key"], tax["amount"]) for tax in body["tax_lines"]] == [("BOOK", "0.84"), ("shipping", "0.00")]
    assert (body["shipping"], body["discount"], body["tax"], body["total"]) == ("4.90", "4.90", "0.84", "12.84")


def test_a_code_for_a_category_discounts_only_its_lines(api_client, product, shipping):
    books = CategoryFactory(slug="books")
    product("NOVEL", price="20.00", category=books)
    product("MUG", price="10.00")
    VoucherFactory(code="READ", promotion=PromotionFactory(scope="categories", categories=["books"], value=25))
    cart = ready(api_client, shipping, ("NOVEL", 1), ("MUG", 1))

    body = apply_code(cart, "READ").json()

    assert (line(body, "NOVEL")["discount"], line(body, "MUG")["discount"], body["discount"]) == (
        "5.00", "0.00", "5.00")


def test_the_order_freezes_the_discount_and_takes_one_use(api_client, tax_rates, goods, shipping, welcome):
    cart = ready(api_client, shipping)
    shown = apply_code(cart, "WELCOME10").json()

    response = complete(cart)

    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["discount_total"], order["tax_total"], order["total"], order["voucher_codes"]) == (
        shown["discount"], shown["tax"], shown["total"], ["WELCOME10"])
    (discount,) = order["discount_lines"]
    assert (discount["voucher_code"], discount["amount"], discount["allocations"]) == (
        "WELCOME10", "4.40", [{"key": "LAMP", "amount": "2.00"}, {"key": "BOOK", "amount": "2.40"}])
    assert [(item["sku"], item["discount_total"], item["tax_total"], item["total"]) for item in order["lines"]] == [
        ("LAMP", "2.00", "3.42", "21.41"), ("BOOK", "2.40", "1.51", "23.11")]
    use = VoucherUse.objects.get()
    assert (str(use.order_id), use.status, use.email) == (order["id"], "used", "erika@example.com")
    assert Voucher.objects.get(code="WELCOME10").used == 1


def test_a_cart_whose_discounts_take_the_whole_total_is_refused_before_payment(api_client, goods, shipping):
    VoucherFactory(code="ALL", promotion=PromotionFactory(value=100, combinable=True))
    VoucherFactory(code="SHIP", promotion=PromotionFactory(kind="free_shipping", value=0, combinable=True))
    cart = ready(api_client, shipping)
    apply_code(cart, "ALL")
    assert apply_code(cart, "SHIP").json()["total"] == "0.00"

    response = complete(cart)

    assert (response.status_code, response.json()["code"]) == (422, "cart_total_zero")
    assert cart.body()["status"] == "open" and VoucherUse.objects.count() == 0


def test_the_order_page_in_the_admin_shows_the_tax_and_discount_lines(customer_client, staff, tax_rates, goods,
                                                                       shipping, welcome):
    cart = ready(customer_client, shipping)
    apply_code(cart, "WELCOME10")
    order = customer_client.post(cart_url(cart.id, "complete/"), {"payment_token": "tok_approved"}, format="json",
                                 HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex).json()
    browser = Client()
    browser.force_login(staff)

    page = browser.get(f"/admin/orders/order/{order['id']}/change/").content.decode()

    assert "LAMP · standard 19 % · base 17.99 EUR · tax 3.42 EUR" in page
    assert "BOOK · reduced 7 % · base 21.60 EUR · tax 1.51 EUR" in page
    assert "shipping · standard 19 % · base 4.90 EUR · tax 0.93 EUR" in page
    assert "Welcome (code WELCOME10) · 4.40 EUR · LAMP 2.00 EUR, BOOK 2.40 EUR" in page
    assert "3.42 EUR (standard 19 %)" in page and "21.41 EUR" in page  # the lamp's line: its tax, what it cost
