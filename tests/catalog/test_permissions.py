"""Each staff write to the catalog needs its permission, in the API and in the admin; a price
needs catalog.change_price on top of catalog.change_product."""

import pytest
from django.test import Client

from apps.catalog.models import Product, Stock
from tests.catalog.factories import ProductFactory
from tests.catalog.test_api import LIST, detail, new_product
from tests.conftest import client_of

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])
CHANGELIST = "/admin/catalog/product/"


def assert_denied(response, permission):
    assert (response.status_code, response["Content-Type"]) == (403, "application/problem+json")
    assert response.json()["code"] == "permission_denied" and permission in response.json()["detail"]


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_creating_a_product_needs_catalog_add_product(staff_with):
    assert_denied(client_of(staff_with("catalog.view_product")).post(LIST, new_product(), format="json"),
                  "catalog.add_product")
    assert not Product.objects.exists()
    assert client_of(staff_with("catalog.add_product")).post(LIST, new_product(), format="json").status_code == 201


def test_a_price_change_needs_catalog_change_price(staff_with):
    ProductFactory(sku="LAMP")
    editor = client_of(staff_with("catalog.change_product"))
    assert_denied(editor.patch(detail("LAMP"), {"price": "1.00"}, format="json", HTTP_IF_MATCH="*"),
                  "catalog.change_price")
    assert editor.patch(detail("LAMP"), {"name": "Lamp"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    pricer = client_of(staff_with("catalog.change_product", "catalog.change_price"))
    assert pricer.patch(detail("LAMP"), {"price": "1.00"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    assert (Product.objects.get().name, str(Product.objects.get().price)) == ("Lamp", "1.000")


def test_deactivating_needs_catalog_change_product(staff_with):
    ProductFactory(sku="LAMP")
    assert_denied(client_of(staff_with("catalog.view_product")).post(f"{detail('LAMP')}deactivate/"),
                  "catalog.change_product")
    assert Product.objects.get().active
    assert client_of(staff_with("catalog.change_product")).post(f"{detail('LAMP')}deactivate/").status_code == 200
    assert not Product.objects.get().active


def test_a_stock_adjustment_needs_catalog_adjust_stock(staff_with):
    ProductFactory(sku="LAMP", units=3)
    url, body = f"{detail('LAMP')}stock-adjustments/", {"delta": 2, "reason": "found"}
    denied = client_of(staff_with("catalog.change_product")).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert_denied(denied, "catalog.adjust_stock")
    allowed = client_of(staff_with("catalog.adjust_stock")).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="b")
    assert allowed.status_code == 201
    assert Stock.objects.get(product_id="LAMP").available == 5


def test_the_admin_actions_need_their_permissions(staff_with):
    ProductFactory(sku="LAMP", units=3)
    adjust = {"action": "adjust_stock", "_selected_action": ["LAMP"], "apply": "1", "token": "t1", "delta": "2",
              "reason": "found"}
    deactivate = {"action": "deactivate_products", "_selected_action": ["LAMP"]}
    viewer = browser(staff_with("catalog.view_product"))
    page = viewer.get(CHANGELIST).content.decode()
    assert "adjust_stock" not in page and "deactivate_products" not in page
    viewer.post(CHANGELIST, adjust)
    viewer.post(CHANGELIST, deactivate)
    assert (Stock.objects.get().available, Product.objects.get().active) == (3, True)

    manager = browser(staff_with("catalog.view_product", "catalog.change_product", "catalog.adjust_stock"))
    page = manager.get(CHANGELIST).content.decode()
    assert "adjust_stock" in page and "deactivate_products" in page
    manager.post(CHANGELIST, adjust)
    manager.post(CHANGELIST, deactivate)
    assert (Stock.objects.get().available, Product.objects.get().active) == (5, False)


def test_without_catalog_change_price_the_admin_keeps_the_price(staff_with):
    ProductFactory(sku="LAMP", price="10.00", currency="EUR")
    editor = browser(staff_with("catalog.view_product", "catalog.change_product"))
    assert 'name="price"' not in editor.get(f"{CHANGELIST}LAMP/change/").content.decode()
    # a forged list edit of the price changes nothing
    list_edit = {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-sku": "LAMP", "form-0-price": "1.00",
                 "form-0-active": "on", "_save": "Save"}
    editor.post(CHANGELIST, list_edit)
    assert str(Product.objects.get().price) == "10.000"

    browser(staff_with("catalog.view_product", "catalog.change_product", "catalog.change_price")).post(
        CHANGELIST, list_edit)
    assert str(Product.objects.get().price) == "1.000"
