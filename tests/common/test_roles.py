"""Staff roles: each group holds exactly the permissions of its job, and demo_setup makes one
staff user per role."""

import io

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

pytestmark = pytest.mark.django_db(databases="__all__")

PRICING_VIEW = {f"pricing.view_{model}" for model in ("taxclass", "taxrate", "promotion", "voucher", "voucheruse")}
EXPECTED = {
    "Catalog manager": {"catalog.view_product", "catalog.add_product", "catalog.change_product",
                        "catalog.change_price", "catalog.adjust_stock", "catalog.view_stock",
                        "catalog.view_stockadjustment", "catalog.view_reservation", "catalog.view_reservationevent",
                        "catalog.view_category", "catalog.add_category", "catalog.change_category",
                        "catalog.delete_category",
                        *(f"checkout.{action}_{model}" for action in ("view", "add", "change", "delete")
                          for model in ("shippingzone", "shippingmethod", "shippingrate")),
                        "checkout.view_cart", "checkout.view_cartline", *PRICING_VIEW,
                        *(f"pricing.{action}_{model}" for action in ("add", "change", "delete")
                          for model in ("promotion", "voucher"))},
    "Order handler": {"orders.view_order", "orders.view_orderline", "orders.view_orderevent",
                      "payments.view_payment", "payments.view_paymenttransaction", "payments.view_refund",
                      "orders.ship_order", "orders.cancel_order", "orders.add_note",
                      "checkout.view_shippingzone", "checkout.view_shippingmethod", "checkout.view_shippingrate"},
    "Finance": {"orders.view_order", "orders.view_orderline", "orders.view_orderevent", "payments.view_payment",
                "payments.view_paymenttransaction", "payments.view_refund", "payments.view_webhookevent",
                "orders.refund_order", "payments.capture_payment", "payments.void_payment",
                "payments.refund_payment", "reporting.view_reports", "reporting.view_dailysales",
                "reporting.view_orderreport", "reporting.view_orderrefund", "reporting.view_paymentreport",
                *PRICING_VIEW, *(f"pricing.{action}_{model}" for action in ("add", "change", "delete")
                                 for model in ("taxclass", "taxrate"))},
    "Support": {"orders.view_order", "orders.view_orderline", "orders.view_orderevent", "orders.add_note",
                "checkout.view_cart", "checkout.view_cartline", "accounts.view_customer", "accounts.view_address",
                "pricing.view_promotion", "pricing.view_voucher", "pricing.view_voucheruse",
                "notifications.view_delivery", "notifications.view_deaddelivery",
                "notifications.view_deliveryattempt", "notifications.view_deliverytransition",
                "notifications.replay_delivery", "common.view_rejectedevent", "common.replay_rejectedevent"},
    "Developer": {"notifications.view_webhookendpoint", "notifications.manage_webhooks", "common.view_metrics",
                  "notifications.view_delivery", "notifications.view_deaddelivery",
                  "notifications.view_deliveryattempt", "notifications.view_deliverytransition",
                  "notifications.replay_delivery", "common.view_rejectedevent", "common.replay_rejectedevent"},
}
MONEY = {"orders.refund_order", "payments.refund_payment", "payments.capture_payment", "payments.void_payment"}


def held(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_each_role_holds_exactly_its_permissions():
    assert {group.name: held(group) for group in Group.objects.all()} == EXPECTED


def test_only_finance_moves_money_and_only_the_order_handler_ships():
    assert not MONEY & held(Group.objects.get(name="Support"))
    assert not MONEY & held(Group.objects.get(name="Order handler"))
    assert [g.name for g in Group.objects.filter(permissions__codename="ship_order")] == ["Order handler"]


def test_roles_sync_takes_back_a_permission_given_by_hand():
    support = Group.objects.get(name="Support")
    support.permissions.add(Permission.objects.get(codename="refund_payment"))
    call_command("roles_sync", stdout=io.StringIO())
    assert held(support) == EXPECTED["Support"]


def test_demo_setup_makes_one_staff_user_per_role_and_prints_their_credentials(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("demo_setup", products=1, stdout=out)
    printed = out.getvalue()
    assert "Staff user: admin  password: " in printed
    for role in EXPECTED:
        line = next(line for line in printed.splitlines() if line.startswith(f"{role}: "))
        name, password = line.split(": ", 1)[1].split("  password: ")
        user = authenticate(username=name, password=password)
        assert user is not None and user.is_staff and not user.is_superuser
        assert [g.name for g in user.groups.all()] == [role]
    # run again (make run twice), the same credentials are printed
    again = io.StringIO()
    call_command("demo_setup", products=1, stdout=again)
    assert again.getvalue().splitlines()[-5:] == printed.splitlines()[-5:]
