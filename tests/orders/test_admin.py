import pytest

from apps.orders.models import Order
from tests.orders.conftest import hidden_inputs, place

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
