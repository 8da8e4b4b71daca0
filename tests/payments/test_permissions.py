"""Each staff action on payments needs its named permission, in the API and in the admin."""

from decimal import Decimal

import pytest
from django.test import Client

from apps.payments.models import Payment
from tests.conftest import client_of
from tests.payments.conftest import authorize
from tests.payments.test_api import URL, post

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/payments/payment/"


def assert_denied(response, permission):
    assert (response.status_code, response["Content-Type"]) == (403, "application/problem+json")
    assert response.json()["code"] == "permission_denied" and permission in response.json()["detail"]


def test_listing_payments_needs_payments_view_payment(staff_with):
    info = authorize()
    assert_denied(client_of(staff_with()).get(URL), "payments.view_payment")
    assert_denied(client_of(staff_with()).get(f"{URL}{info.payment_id}/"), "payments.view_payment")
    viewer = client_of(staff_with("payments.view_payment"))
    assert [p["id"] for p in viewer.get(URL).json()["results"]] == [str(info.payment_id)]


@pytest.mark.parametrize(("operation", "permission", "before", "after"), [
    ("capture", "payments.capture_payment", "authorized", "captured"),
    ("void", "payments.void_payment", "authorized", "voided"),
    ("refund", "payments.refund_payment", "captured", "refunded"),
])
def test_each_operation_needs_its_permission(staff_with, operation, permission, before, after):
    info = authorize(amount="40.00")
    if before == "captured":
        post(client_of(staff_with("payments.capture_payment")), f"{URL}{info.payment_id}/capture/", key="c")
    path = f"{URL}{info.payment_id}/{operation}/"
    viewer = client_of(staff_with("payments.view_payment"))
    assert_denied(post(viewer, path, key="k-denied"), permission)
    assert Payment.objects.get().status == before

    assert post(client_of(staff_with(permission)), path, key="k-allowed").status_code == 200
    assert Payment.objects.get().status == after


def test_the_refund_action_in_the_admin_needs_payments_refund_payment(staff_with):
    info = authorize(amount="40.00")
    post(client_of(staff_with("payments.capture_payment")), f"{URL}{info.payment_id}/capture/", key="c")
    form = {"action": "refund_payments", "_selected_action": [str(info.payment_id)], "apply": "1",
            "refund_token": "t", "amount": "5.00"}
    viewer = Client()
    viewer.force_login(staff_with("payments.view_payment", "payments.change_payment"))
    assert "refund_payments" not in viewer.get(CHANGELIST).content.decode()
    viewer.post(CHANGELIST, form)
    assert Payment.objects.get().amount_refunded == 0

    finance = Client()
    finance.force_login(staff_with("payments.view_payment", "payments.refund_payment"))
    assert "refund_payments" in finance.get(CHANGELIST).content.decode()
    finance.post(CHANGELIST, form)
    assert Payment.objects.get().amount_refunded == Decimal("5.00")
