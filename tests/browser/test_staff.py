"""Staff at work in a real browser: sign in through the admin's form, act from an order's page,
change a price the API then serves; and the API docs render with nothing fetched from elsewhere."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect
from rest_framework.test import APIClient

from apps.orders.models import Order
from apps.orders.services.lifecycle import order_ship
from tests.browser.conftest import sign_in
from tests.catalog.factories import ProductFactory
from tests.orders.conftest import place

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases="__all__")]


@pytest.fixture
def order(transactional_db) -> Order:
    ProductFactory(sku="MUG-1", price=Decimal("12.50"), currency="USD", units=5)
    customer = get_user_model().objects.create_user("customer", "customer@example.com", "pw-customer-1")
    client = APIClient()
    client.force_authenticate(customer)
    return Order.objects.get(pk=place(client, [("MUG-1", 1)]).json()["id"])


def test_the_order_handler_ships_an_order_from_its_page(page, role_user, order):
    sign_in(page, *role_user("Order handler"))
    page.goto(f"/admin/orders/order/{order.pk}/change/")

    page.get_by_role("link", name="Ship", exact=True).click()
    page.get_by_role("button", name="Yes, ship").click()

    expect(page.locator(".messagelist .success")).to_have_text(f"Order {order.number} shipped.")
    expect(page.locator(".field-status .readonly")).to_have_text("Shipped")
    order.refresh_from_db()
    assert order.status == "shipped"


def test_support_sees_no_refund_button_where_finance_does(page, browser, live_server, role_user, order):
    order_ship(order=order, actor=None)
    sign_in(page, *role_user("Support"))
    page.goto(f"/admin/orders/order/{order.pk}/change/")
    expect(page.get_by_role("link", name="Add note")).to_be_visible()
    expect(page.get_by_role("link", name="Refund", exact=True)).to_have_count(0)

    finance = browser.new_context(base_url=live_server.url).new_page()
    sign_in(finance, *role_user("Finance"))
    finance.goto(f"/admin/orders/order/{order.pk}/change/")
    expect(finance.get_by_role("link", name="Refund", exact=True)).to_be_visible()
    finance.context.close()


def test_a_price_the_catalog_manager_changes_is_what_the_api_serves(page, role_user):
    ProductFactory(sku="LAMP-1", price=Decimal("19.99"), currency="EUR")
    assert page.request.get("/api/v1/products/LAMP-1/").json()["price"] == "19.99"
    sign_in(page, *role_user("Catalog manager"))

    page.goto("/admin/catalog/product/LAMP-1/change/")
    page.fill("#id_price", "24.50")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("LAMP-1")

    assert page.request.get("/api/v1/products/LAMP-1/").json()["price"] == "24.50"


def test_the_api_docs_render_their_operations_with_nothing_fetched_from_elsewhere(page, blocked_hosts):
    page.goto("/api/docs/")

    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 10
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/orders/").first).to_be_visible()
    assert blocked_hosts == []


def test_finance_reads_a_payment_and_its_transaction_log_at_1400_px(page, role_user, order):
    order_ship(order=order, actor=None)  # authorize, then capture: two transactions
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, *role_user("Finance"))
    page.goto(f"/admin/orders/order/{order.pk}/change/")
    page.locator(".field-payment a").first.click()

    # Amounts in the currency's minor unit with the currency, the order by its number
    expect(page.locator(".field-captured_shown .readonly")).to_have_text("12.50 USD")
    expect(page.get_by_role("link", name=order.number)).to_be_visible()
    assert "12.500" not in page.content()
    # and the transaction log fits the window: nothing to scroll sideways
    expect(page.locator("#transactions-group tbody tr.has_original")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
