"""Each staff action on orders needs its named permission, in the API and in the admin; being
staff grants none of them. Customers keep their own-data rules."""

import pytest
from django.test import Client

from apps.orders.models import Order
from tests.conftest import client_of
from tests.orders.conftest import action, hidden_inputs, payment_status, place

pytestmark = pytest.mark.django_db(databases="__all__")
CHANGELIST = "/admin/orders/order/"
VIEW = ("orders.view_order", "payments.view_payment")


@pytest.fixture
def order(customer_client, stock):
    stock("MUG-1", "12.50")
    return place(customer_client, [("MUG-1", 1)]).json()


def shipped(order, staff_client):
    assert action(staff_client, order["id"], "ship").status_code == 200
    return order


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_denied(response, permission):
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "permission_denied"
    assert permission in response.json()["detail"]


def status_of(order) -> str:
    return Order.objects.get(pk=order["id"]).status


# ---------------------------------------------------------------- API

def test_staff_without_view_order_see_only_their_own_orders(order, staff_with):
    clerk = client_of(staff_with())
    assert clerk.get("/api/v1/orders/").json()["results"] == []
    assert clerk.get(f"/api/v1/orders/{order['id']}/").status_code == 404

    viewer = client_of(staff_with("orders.view_order"))
    assert [o["id"] for o in viewer.get("/api/v1/orders/").json()["results"]] == [order["id"]]
    assert viewer.get(f"/api/v1/orders/{order['id']}/").status_code == 200


@pytest.mark.parametrize(("name", "permission"), [
    ("ship", "orders.ship_order"),
    ("cancel", "orders.cancel_order"),
])
def test_ship_and_cancel_need_their_permission(order, staff_with, name, permission):
    viewer = client_of(staff_with(*VIEW))
    assert_denied(action(viewer, order["id"], name), permission)
    assert status_of(order) == "confirmed" and payment_status(order["id"]) == "authorized"

    allowed = client_of(staff_with(*VIEW, permission))
    assert action(allowed, order["id"], name).status_code == 200
    assert status_of(order) == {"ship": "shipped", "cancel": "cancelled"}[name]


def test_refund_needs_orders_refund_order(order, staff_client, staff_with):
    shipped(order, staff_client)
    viewer = client_of(staff_with(*VIEW))
    assert_denied(action(viewer, order["id"], "refund", {"amount": "2.00"}), "orders.refund_order")
    assert status_of(order) == "shipped"

    finance = client_of(staff_with(*VIEW, "orders.refund_order"))
    assert action(finance, order["id"], "refund", {"amount": "2.00"}).status_code == 200
    assert status_of(order) == "partially_refunded"


def test_notes_need_orders_add_note(order, staff_with):
    viewer = client_of(staff_with(*VIEW))
    url = f"/api/v1/orders/{order['id']}/notes/"
    assert_denied(viewer.post(url, {"message": "called"}, format="json"), "orders.add_note")

    support = client_of(staff_with(*VIEW, "orders.add_note"))
    assert support.post(url, {"message": "called"}, format="json").status_code == 201
    assert Order.objects.get(pk=order["id"]).timeline.filter(kind="note", message="called").count() == 1


def test_a_customer_still_cancels_their_own_order_and_gets_404_for_others(order, customer_client,
                                                                          other_customer):
    assert action(client_of(other_customer), order["id"], "cancel").status_code == 404
    assert action(customer_client, order["id"], "ship").status_code == 403
    assert action(customer_client, order["id"], "cancel").status_code == 200
    assert status_of(order) == "cancelled"


# ---------------------------------------------------------------- admin

def test_a_view_only_staff_user_posting_ship_leaves_the_order_confirmed_and_its_payment_authorized(
        order, staff_with):
    # Given a staff user who may only look at orders and payments
    viewer = browser(staff_with(*VIEW))
    page = viewer.get(CHANGELIST).content.decode()
    # Then no action is offered
    assert order["number"] in page
    assert "ship_orders" not in page and "cancel_orders" not in page and "refund_orders" not in page
    # and a forged POST of each does nothing
    for name in ("ship_orders", "cancel_orders"):
        viewer.post(CHANGELIST, {"action": name, "_selected_action": [order["id"]]})
    assert status_of(order) == "confirmed"
    assert payment_status(order["id"]) == "authorized"


def test_the_ship_and_cancel_actions_work_with_their_permission(order, customer_client, stock, staff_with):
    handler = browser(staff_with(*VIEW, "orders.ship_order", "orders.cancel_order"))
    page = handler.get(CHANGELIST).content.decode()
    assert "ship_orders" in page and "cancel_orders" in page and "refund_orders" not in page
    other = place(customer_client, [("MUG-1", 1)]).json()

    handler.post(CHANGELIST, {"action": "ship_orders", "_selected_action": [order["id"]]})
    handler.post(CHANGELIST, {"action": "cancel_orders", "_selected_action": [other["id"]]})

    assert (status_of(order), payment_status(order["id"])) == ("shipped", "captured")
    assert (status_of(other), payment_status(other["id"])) == ("cancelled", "voided")


def test_the_refund_action_needs_orders_refund_order(order, staff_client, staff_with):
    shipped(order, staff_client)
    form = {"action": "refund_orders", "_selected_action": [order["id"]], "apply": "1", "amount": "2.50",
            "refund_token": "t1"}
    browser(staff_with(*VIEW, "orders.ship_order")).post(CHANGELIST, form)
    assert status_of(order) == "shipped"

    finance = browser(staff_with(*VIEW, "orders.refund_order"))
    assert "refund_orders" in finance.get(CHANGELIST).content.decode()
    finance.post(CHANGELIST, form)
    assert status_of(order) == "partially_refunded"


def test_a_note_in_the_admin_needs_orders_add_note(order, staff_with):
    change = f"{CHANGELIST}{order['id']}/change/"
    viewer = browser(staff_with(*VIEW))
    page = viewer.get(change).content.decode()
    assert 'name="new_note"' not in page
    assert viewer.post(change, {**hidden_inputs(page), "new_note": "forged"}).status_code == 403

    support = browser(staff_with(*VIEW, "orders.add_note"))
    page = support.get(change).content.decode()
    assert 'name="new_note"' in page
    assert support.post(change, {**hidden_inputs(page), "new_note": "called the customer"}).status_code == 302

    notes = Order.objects.get(pk=order["id"]).timeline.filter(kind="note")
    assert list(notes.values_list("message", flat=True)) == ["called the customer"]
