"""Staff roles: one auth group per job, holding exactly the permissions that job needs.

`roles_sync` makes the groups match this table; it runs after every migrate of the auth database
(so a flushed test database gets them back too) and from `manage.py roles_sync`. A permission
given to a group by hand is taken away again: change the table instead."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, router, transaction

_ORDERS_VIEW = ("orders.view_order", "orders.view_orderline", "orders.view_orderevent")
_PAYMENTS_VIEW = ("payments.view_payment", "payments.view_paymenttransaction", "payments.view_refund")
_CARTS_VIEW = ("checkout.view_cart", "checkout.view_cartline")
_SHIPPING_VIEW = ("checkout.view_shippingzone", "checkout.view_shippingmethod", "checkout.view_shippingrate")
_SHIPPING_MANAGE = ("checkout.add_shippingzone", "checkout.change_shippingzone", "checkout.delete_shippingzone",
                    "checkout.add_shippingmethod", "checkout.change_shippingmethod", "checkout.delete_shippingmethod",
                    "checkout.add_shippingrate", "checkout.change_shippingrate", "checkout.delete_shippingrate")
_PRICING_VIEW = ("pricing.view_taxclass", "pricing.view_taxrate", "pricing.view_promotion", "pricing.view_voucher",
                 "pricing.view_voucheruse")
_TAXES_MANAGE = ("pricing.add_taxclass", "pricing.change_taxclass", "pricing.delete_taxclass",
                 "pricing.add_taxrate", "pricing.change_taxrate", "pricing.delete_taxrate")
_PROMOTIONS_MANAGE = ("pricing.add_promotion", "pricing.change_promotion", "pricing.delete_promotion",
                      "pricing.add_voucher", "pricing.change_voucher", "pricing.delete_voucher")
_CUSTOMERS_VIEW = ("accounts.view_customer", "accounts.view_address")  # profiles and address books
_DELIVERIES_VIEW = ("notifications.view_delivery", "notifications.view_deaddelivery",
                    "notifications.view_deliveryattempt", "notifications.view_deliverytransition")

ROLES: dict[str, tuple[str, ...]] = {
    "Catalog manager": (
        "catalog.view_product", "catalog.add_product", "catalog.change_product", "catalog.change_price",
        "catalog.adjust_stock", "catalog.view_stock", "catalog.view_stockadjustment",
        "catalog.view_reservation", "catalog.view_reservationevent",
        "catalog.view_category", "catalog.add_category", "catalog.change_category", "catalog.delete_category",
        *_SHIPPING_VIEW, *_SHIPPING_MANAGE, *_CARTS_VIEW, *_PRICING_VIEW, *_PROMOTIONS_MANAGE,
    ),
    "Order handler": (
        *_ORDERS_VIEW, *_PAYMENTS_VIEW,
        "orders.ship_order", "orders.cancel_order", "orders.add_note",
        *_SHIPPING_VIEW,
    ),
    "Finance": (
        *_ORDERS_VIEW, *_PAYMENTS_VIEW, "payments.view_webhookevent",
        "orders.refund_order", "payments.capture_payment", "payments.void_payment", "payments.refund_payment",
        "reporting.view_reports", "reporting.view_dailysales", "reporting.view_orderreport",
        "reporting.view_orderrefund", "reporting.view_paymentreport",
        *_PRICING_VIEW, *_TAXES_MANAGE,
    ),
    "Support": (
        *_ORDERS_VIEW, "orders.add_note", *_CARTS_VIEW, *_CUSTOMERS_VIEW,
        "pricing.view_promotion", "pricing.view_voucher", "pricing.view_voucheruse",
        *_DELIVERIES_VIEW, "notifications.replay_delivery",
        "common.view_rejectedevent", "common.replay_rejectedevent",
    ),
    "Developer": (
        "notifications.view_webhookendpoint", "notifications.manage_webhooks", "common.view_metrics",
        *_DELIVERIES_VIEW, "notifications.replay_delivery",
        "common.view_rejectedevent", "common.replay_rejectedevent",
    ),
}


def roles_sync(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the role groups and give each exactly the permissions of ROLES."""
    Group = global_apps.get_model("auth", "Group")
    Permission = global_apps.get_model("auth", "Permission")
    if not router.allow_migrate_model(using, Group):
        return
    # post_migrate reaches this before the later apps' permissions exist: create them all first.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    with transaction.atomic(using=using):
        for name, codenames in ROLES.items():
            permissions = [_permission(Permission, using, codename) for codename in codenames]
            group, _ = Group.objects.using(using).get_or_create(name=name)
            group.permissions.set(permissions)


def _permission(Permission, using: str, dotted: str):
    app_label, codename = dotted.split(".")
    try:
        return Permission.objects.using(using).get(content_type__app_label=app_label, codename=codename)
    except Permission.DoesNotExist as exc:
        raise ImproperlyConfigured(f"Role permission {dotted} does not exist.") from exc


def roles_sync_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    roles_sync(using=using)
