from decimal import Decimal

import pytest
from django.test import Client

from apps.orders.models import Order
from apps.orders.services.lifecycle import order_ship
from apps.payments import api as payments_api
from tests.orders.conftest import hidden_inputs, payment_status, place

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)  # every role, no superuser
    return client


@pytest.fixture
def order(customer_client, stock):
    stock("MUG-1", "12.50")
    return Order.objects.get(pk=place(customer_client, [("MUG-1", 1)]).json()["id"])


def test_staff_find_orders_by_number_and_email_and_filter_by_status(admin_client, order):
    assert order.number in admin_client.get(f"/admin/orders/order/?q={order.number}").content.decode()
    assert order.number in admin_client.get(f"/admin/orders/order/?q={order.email}").content.decode()
    assert order.number not in admin_client.get("/admin/orders/order/?status__exact=shipped").content.decode()


def test_the_detail_shows_lines_payment_and_timeline_and_status_is_read_only(admin_client, order):
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "MUG-1" in page and "authorized" in page and "Stock held and payment authorized" in page
    assert 'name="status"' not in page
    form = {**hidden_inputs(page), "new_note": "called the customer"}
    assert admin_client.post(f"/admin/orders/order/{order.pk}/change/", form).status_code == 302
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert order.timeline.filter(kind="note", message="called the customer").exists()


def test_the_ship_action_calls_the_service(admin_client, order):
    admin_client.post("/admin/orders/order/", {"action": "ship_orders", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == "shipped" and order.paid_at is not None


def test_the_refund_action_asks_for_an_amount_then_refunds(admin_client, order):
    admin_client.post("/admin/orders/order/", {"action": "ship_orders", "_selected_action": [order.pk]})
    form = admin_client.post("/admin/orders/order/", {"action": "refund_orders", "_selected_action": [order.pk]})
    assert 'name="amount"' in form.content.decode()
    admin_client.post("/admin/orders/order/", {"action": "refund_orders", "_selected_action": [order.pk],
                                               "apply": "1", "amount": "2.50", "refund_token": "t1"})
    order.refresh_from_db()
    assert (order.status, str(order.refunded_amount)) == ("partially_refunded", "2.500")


# ---------------------------------------------------------------- the buttons on the order's page

VIEW = ("orders.view_order", "payments.view_payment")


def page_of(client, order) -> str:
    return client.get(f"/admin/orders/order/{order.pk}/change/", follow=True).content.decode()


def button(order, name) -> str:
    return f"/admin/orders/order/{order.pk}/{name}/"


def post_button(client, order, name, data=None):
    """Press the button, then confirm on the page it opens; the page the user lands on."""
    confirm = client.get(button(order, name)).content.decode()
    assert "Yes," in confirm
    form = {key: value for key, value in hidden_inputs(confirm).items() if key != "csrfmiddlewaretoken"}
    return client.post(button(order, name), {**form, **(data or {})}, follow=True).content.decode()


def shipped(order):
    order_ship(order=order, actor=None)
    order.refresh_from_db()
    return order


def test_the_order_page_offers_only_the_buttons_of_the_users_permissions(order, staff_with):
    handler = Client()
    handler.force_login(staff_with(*VIEW, "orders.ship_order", "orders.cancel_order", "orders.add_note"))
    page = page_of(handler, order)
    assert button(order, "ship") in page and button(order, "cancel") in page and button(order, "note") in page
    assert button(order, "refund") not in page  # no permission (and nothing to refund yet)

    support = Client()
    support.force_login(staff_with(*VIEW, "orders.add_note"))
    page = page_of(support, shipped(order))
    assert button(order, "note") in page
    assert button(order, "refund") not in page and button(order, "cancel") not in page

    finance = Client()
    finance.force_login(staff_with(*VIEW, "orders.refund_order"))
    assert button(order, "refund") in page_of(finance, order)


def test_ship_from_the_order_page_asks_then_ships_and_says_so_with_the_staff_user_in_the_timeline(
        order, staff_with):
    user = staff_with(*VIEW, "orders.ship_order")
    handler = Client()
    handler.force_login(user)
    assert handler.get(button(order, "ship")).status_code == 200
    order.refresh_from_db()
    assert order.status == "confirmed"  # the confirmation page changes nothing

    landed = post_button(handler, order, "ship")

    order.refresh_from_db()
    assert order.status == "shipped"
    assert f"Order {order.number} shipped." in landed
    assert order.timeline.filter(to_status="shipped", actor=user).exists()


def test_an_action_the_order_no_longer_allows_shows_the_services_reason(order, staff_with):
    handler = Client()
    handler.force_login(staff_with(*VIEW, "orders.ship_order", "orders.cancel_order"))
    post_button(handler, order, "ship")

    landed = handler.post(button(order, "cancel"), follow=True).content.decode()

    order.refresh_from_db()
    assert order.status == "shipped"
    assert f"Order {order.number} was not cancelled:" in landed and "shipped" in landed


@pytest.mark.parametrize(("name", "data"), [("ship", {}), ("cancel", {}), ("note", {"message": "forged"}),
                                            ("refund", {"amount": "1.00", "token": "forged"})])
def test_a_forged_post_without_the_permission_is_403_and_changes_nothing(order, staff_with, name, data):
    viewer = Client()
    viewer.force_login(staff_with(*VIEW, "orders.add_note" if name != "note" else "orders.ship_order"))
    before = order.timeline.count()

    assert viewer.post(button(order, name), data).status_code == 403
    assert viewer.get(button(order, name)).status_code == 403

    order.refresh_from_db()
    assert order.status == "confirmed" and order.timeline.count() == before
    assert payment_status(order.pk) == "authorized"


def test_refund_by_lines_refunds_their_price_and_a_double_submit_refunds_once(customer_client, stock, staff_with):
    stock("MUG-1", "12.50")
    stock("CAP-1", "7.25")
    order = Order.objects.get(pk=place(customer_client, [("MUG-1", 2), ("CAP-1", 1)]).json()["id"])
    shipped(order)
    finance = Client()
    finance.force_login(staff_with(*VIEW, "orders.refund_order"))
    form = hidden_inputs(finance.get(button(order, "refund")).content.decode())

    first = finance.post(button(order, "refund"), {"token": form["token"], "line_MUG-1": "1"}, follow=True)
    again = finance.post(button(order, "refund"), {"token": form["token"], "line_MUG-1": "1"}, follow=True)

    order.refresh_from_db()
    assert (order.status, str(order.refunded_amount)) == ("partially_refunded", "12.500")
    assert order.lines.get(sku="MUG-1").refunded_quantity == 1
    assert f"Order {order.number} refunded." in first.content.decode()
    assert "already submitted" in again.content.decode()
    assert payments_api.payment_for_order(order_id=order.pk).amount_refunded == Decimal("12.50")


def test_refund_by_amount_beyond_what_is_left_shows_the_reason_and_a_new_form_can_still_refund(order, staff_with):
    shipped(order)
    finance = Client()
    finance.force_login(staff_with(*VIEW, "orders.refund_order"))
    form = hidden_inputs(finance.get(button(order, "refund")).content.decode())

    refused = finance.post(button(order, "refund"), {"token": form["token"], "amount": "99.00"}, follow=True)
    retried = finance.post(button(order, "refund"), {"token": form["token"], "amount": "2.50"}, follow=True)

    assert "was not refunded: Refund 99.00 USD: between 0 and 12.50 can be refunded." in refused.content.decode()
    assert f"Order {order.number} refunded." in retried.content.decode()
    order.refresh_from_db()
    assert str(order.refunded_amount) == "2.500"


def test_a_note_from_its_button_lands_in_the_timeline_with_its_author(order, staff_with):
    user = staff_with(*VIEW, "orders.view_orderevent", "orders.add_note")
    support = Client()
    support.force_login(user)

    landed = post_button(support, order, "note", {"message": "called the customer"})

    assert f"Order {order.number} noted." in landed and "called the customer" in landed
    assert order.timeline.filter(kind="note", message="called the customer", actor=user).exists()


def test_amounts_show_their_currency_at_its_minor_unit_and_the_order_links_its_payment(order, admin_client):
    page = page_of(admin_client, order)
    assert "12.50 USD" in page and "12.500" not in page
    payment_id = payments_api.payment_for_order(order_id=order.pk).payment_id
    assert f"/admin/payments/payment/{payment_id}/change/" in page
    assert "12.50 USD" in admin_client.get("/admin/orders/order/").content.decode()


def test_payments_are_found_by_order_number_and_link_back_to_their_order(order, customer_client, admin_client):
    other = Order.objects.get(pk=place(customer_client, [("MUG-1", 1)]).json()["id"])
    listing = admin_client.get(f"/admin/payments/payment/?q={order.number}").content.decode()
    assert order.number in listing and other.number not in listing
    assert f"/admin/orders/order/{order.pk}/change/" in listing and "12.50 USD" in listing
    payment_id = payments_api.payment_for_order(order_id=order.pk).payment_id
    page = admin_client.get(f"/admin/payments/payment/{payment_id}/change/").content.decode()
    assert f'<a href="/admin/orders/order/{order.pk}/change/">{order.number}</a>' in page
