"""Staff in the admin: products with inline stock, search and filters, editable price and active
flag, an audited stock adjustment action. Every admin write reaches the API's cached reads."""

from decimal import Decimal

import pytest

from apps.catalog.models import Product, Stock, StockAdjustment
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.catalog.invariants import assert_stock_consistent

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])

CHANGELIST = "/admin/catalog/product/"


def change_url(sku):
    return f"/admin/catalog/product/{sku}/change/"


def public(api_client, sku):
    return api_client.get(f"/api/v1/products/{sku}/").json()


def inline_management_data(response) -> dict:
    """The hidden inputs of the page's inlines, as the browser would send them back."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({field.html_name: field.value() for field in formset.management_form})
        for form in formset.forms:
            data.update({field.html_name: field.value() or "" for field in form.hidden_fields()})
    return data


def test_the_product_list_shows_stock_and_searches_and_filters(admin_client):
    ProductFactory(sku="LAMP", name="Desk Lamp", units=7)
    ProductFactory(sku="MUG", name="Mug", active=False)

    page = admin_client.get(CHANGELIST)
    searched = admin_client.get(CHANGELIST, {"q": "lamp"})
    inactive = admin_client.get(CHANGELIST, {"active__exact": "0"})

    assert page.status_code == 200
    assert [p.sku for p in page.context["cl"].result_list] == ["LAMP", "MUG"]
    assert [p.sku for p in searched.context["cl"].result_list] == ["LAMP"]
    assert [p.sku for p in inactive.context["cl"].result_list] == ["MUG"]
    assert b"Adjust stock (audited)" in page.content


def test_the_change_page_shows_the_stock_inline_read_only(admin_client):
    ProductFactory(sku="LAMP", units=7)

    page = admin_client.get(change_url("LAMP"))

    assert page.status_code == 200
    stock_inline = next(i for i in page.context["inline_admin_formsets"] if i.opts.model is Stock)
    assert set(stock_inline.readonly_fields) >= {"available", "held", "committed", "stocked", "on_hand"}
    assert admin_client.get("/admin/catalog/product/LAMP/delete/").status_code == 403  # deactivate instead


def test_editing_a_product_in_the_admin_invalidates_the_cached_detail(admin_client, api_client):
    CategoryFactory(slug="lighting")
    ProductFactory(sku="LAMP", name="Desk Lamp", price=Decimal("19.99"))
    assert public(api_client, "LAMP")["price"] == "19.99"  # cached now
    page = admin_client.get(change_url("LAMP"))

    response = admin_client.post(change_url("LAMP"), {
        "name": "Desk Lamp", "description": "", "category": "lighting", "price": "24.50", "currency": "EUR",
        "weight": "0", "tax_class": "standard", "active": "on", "attributes": '{"color": "walnut"}',
        **inline_management_data(page)})

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    detail = public(api_client, "LAMP")
    assert (detail["price"], detail["category"], detail["version"]) == ("24.50", "lighting", 2)


def test_the_admin_refuses_a_price_that_does_not_fit_the_currency(admin_client):
    ProductFactory(sku="TEA", price=Decimal("1500"), currency="JPY")
    page = admin_client.get(change_url("TEA"))

    response = admin_client.post(change_url("TEA"), {
        "name": "Tea", "description": "", "category": "", "price": "15.50", "currency": "JPY", "weight": "0",
        "tax_class": "standard", "active": "on", "attributes": "{}", **inline_management_data(page)})

    assert response.status_code == 200
    assert "price" in response.context["adminform"].form.errors
    assert Product.objects.get(pk="TEA").price == Decimal("1500")


def test_editing_price_and_active_in_the_list_invalidates_list_and_detail(admin_client, api_client):
    ProductFactory(sku="LAMP", price=Decimal("19.99"))
    assert [p["price"] for p in api_client.get("/api/v1/products/").json()["results"]] == ["19.99"]

    response = admin_client.post(CHANGELIST, {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-sku": "LAMP", "form-0-price": "9.99", "form-0-active": "on", "_save": "Save"})

    assert response.status_code == 302
    assert [p["price"] for p in api_client.get("/api/v1/products/").json()["results"]] == ["9.99"]
    assert public(api_client, "LAMP")["version"] == 2

    admin_client.post(CHANGELIST, {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-sku": "LAMP", "form-0-price": "9.99", "_save": "Save"})  # active unchecked

    assert api_client.get("/api/v1/products/").json()["results"] == []
    assert public(api_client, "LAMP")["active"] is False


def test_the_list_refuses_a_price_with_too_many_decimals_for_the_currency(admin_client):
    ProductFactory(sku="LAMP", price=Decimal("19.99"))

    response = admin_client.post(CHANGELIST, {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-sku": "LAMP", "form-0-price": "9.995", "form-0-active": "on", "_save": "Save"})

    assert response.status_code == 200
    assert Product.objects.get(pk="LAMP").price == Decimal("19.99")


def test_the_stock_adjustment_action_is_audited_and_updates_the_availability(admin_client, admin_user, api_client):
    ProductFactory(sku="LAMP", units=3)
    ProductFactory(sku="MUG", units=1)
    assert public(api_client, "LAMP")["availability"]["available"] == 3
    selected = {"action": "adjust_stock", "_selected_action": ["LAMP", "MUG"]}

    form_page = admin_client.post(CHANGELIST, selected)
    token = form_page.context["form"].initial["token"]
    submitted = {**selected, "apply": "1", "token": token, "delta": "-2", "reason": "water damage"}
    done = admin_client.post(CHANGELIST, submitted, follow=True)
    admin_client.post(CHANGELIST, submitted)  # the same form submitted twice adjusts once

    assert form_page.status_code == 200 and b"water damage" not in form_page.content
    assert b'name="reason"' in form_page.content
    messages = [str(m) for m in done.context["messages"]]
    assert "LAMP: stock -2." in messages
    assert any(m.startswith("MUG: not adjusted: Only 1 units") for m in messages)
    assert StockAdjustment.objects.filter(product_id="LAMP").count() == 1
    lamp = StockAdjustment.objects.get(product_id="LAMP")
    assert (lamp.delta, lamp.reason, lamp.actor_name, lamp.actor_id, lamp.status) == (
        -2, "water damage", admin_user.username, str(admin_user.pk), StockAdjustment.Status.APPLIED)
    assert StockAdjustment.objects.get(product_id="MUG").status == StockAdjustment.Status.REJECTED
    assert public(api_client, "LAMP")["availability"]["available"] == 1
    assert assert_stock_consistent("LAMP", stocked=1)["available"] == 1


def test_adding_a_product_in_the_admin_creates_its_stock_and_is_served_at_once(admin_client, api_client):
    assert api_client.get("/api/v1/products/NEW-1/").status_code == 404  # a cached 404
    page = admin_client.get("/admin/catalog/product/add/")

    response = admin_client.post("/admin/catalog/product/add/", {
        "sku": "new-1", "name": "New Thing", "description": "", "category": "", "price": "5.00", "currency": "usd",
        "weight": "0", "tax_class": "standard", "active": "on", "attributes": "{}", **inline_management_data(page)})

    assert response.status_code == 302
    assert public(api_client, "NEW-1")["currency"] == "USD"
    assert Stock.objects.filter(pk="NEW-1").exists()


def test_the_deactivate_action_takes_products_off_the_public_list(admin_client, api_client):
    ProductFactory(sku="LAMP")
    assert len(api_client.get("/api/v1/products/").json()["results"]) == 1

    admin_client.post(CHANGELIST, {"action": "deactivate_products", "_selected_action": ["LAMP"]})

    assert api_client.get("/api/v1/products/").json()["results"] == []
