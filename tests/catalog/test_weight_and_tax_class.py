"""A product's shipping weight (kg, to the gram) and tax class (a code of pricing's tax classes):
set on create, changed by PATCH with catalog.change_product alone, refused with field errors
when invalid, served at once by the cached reads, and handed to other apps in price snapshots."""

from decimal import Decimal

import pytest

from apps.catalog import api as catalog
from apps.catalog.models import Product
from apps.pricing.models import TaxClass
from tests.catalog.factories import ProductFactory
from tests.catalog.test_admin import inline_management_data
from tests.catalog.test_api import LIST, detail, new_product
from tests.catalog.test_permissions import assert_denied, browser
from tests.conftest import client_of

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])

INVALID = [
    ({"weight": "-0.5"}, {"weight"}),
    ({"weight": "0.1234"}, {"weight"}),  # finer than a gram
    ({"weight": "heavy"}, {"weight"}),
    ({"tax_class": "luxury"}, {"tax_class"}),  # no such tax class in pricing
    ({"weight": "-1", "tax_class": "luxury"}, {"weight", "tax_class"}),
]


def problem_fields(response) -> set[str]:
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    return {error["field"] for error in response.json()["errors"]}


def listed_tax_classes(client) -> dict[str, str]:
    return {item["sku"]: item["tax_class"] for item in client.get(LIST).json()["results"]}


def test_staff_create_a_product_with_its_weight_and_tax_class(staff_client, api_client):
    response = staff_client.post(LIST, new_product(sku="BOOK-1", weight="0.64", tax_class="reduced"), format="json")

    assert response.status_code == 201
    assert (response.json()["weight"], response.json()["tax_class"]) == ("0.640", "reduced")
    shown = api_client.get(detail("BOOK-1")).json()
    assert (shown["weight"], shown["tax_class"]) == ("0.640", "reduced")
    assert listed_tax_classes(api_client) == {"BOOK-1": "reduced"}
    snapshot = catalog.price_snapshots(skus=["BOOK-1"])["BOOK-1"]
    assert (snapshot.weight, snapshot.tax_class) == (Decimal("0.640"), "reduced")


def test_a_product_created_without_them_weighs_nothing_and_is_taxed_at_the_standard_rate(staff_client):
    response = staff_client.post(LIST, new_product(), format="json")

    assert response.status_code == 201
    assert (response.json()["weight"], response.json()["tax_class"]) == ("0.000", "standard")


def test_a_patch_of_weight_and_tax_class_is_served_at_once_by_the_cached_detail_and_list(staff_client, api_client):
    ProductFactory(sku="LAMP", weight=Decimal("1.000"))
    before = api_client.get(detail("LAMP")).json()  # cached now, like the list
    assert (before["weight"], before["tax_class"], listed_tax_classes(api_client)) == (
        "1.000", "standard", {"LAMP": "standard"})

    response = staff_client.patch(detail("LAMP"), {"weight": "1.25", "tax_class": "reduced"}, format="json",
                                  HTTP_IF_MATCH='"1"')

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    after = api_client.get(detail("LAMP"))
    assert after["ETag"] == '"2"'
    assert (after.json()["weight"], after.json()["tax_class"]) == ("1.250", "reduced")
    assert listed_tax_classes(api_client) == {"LAMP": "reduced"}
    snapshot = catalog.price_snapshots(skus=["LAMP"])["LAMP"]
    assert (snapshot.weight, snapshot.tax_class) == (Decimal("1.250"), "reduced")


def test_weight_alone_changes_and_the_tax_class_stays(staff_client):
    ProductFactory(sku="LAMP", tax_class="zero")

    response = staff_client.patch(detail("LAMP"), {"weight": "0"}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 200
    assert (response.json()["weight"], response.json()["tax_class"]) == ("0.000", "zero")


def test_a_tax_class_staff_just_added_in_pricing_is_accepted(staff_client):
    TaxClass.objects.create(code="children-clothing", name="Children's clothing")

    response = staff_client.post(LIST, new_product(tax_class="children-clothing"), format="json")

    assert response.status_code == 201
    assert response.json()["tax_class"] == "children-clothing"


@pytest.mark.parametrize(("fields", "named"), INVALID)
def test_an_invalid_weight_or_tax_class_on_create_is_a_400_naming_the_field(staff_client, api_client, fields,
                                                                              named):
    response = staff_client.post(LIST, new_product(**fields), format="json")

    assert problem_fields(response) == named
    assert not Product.objects.exists()
    assert api_client.get(detail("LAMP-1")).status_code == 404


@pytest.mark.parametrize(("fields", "named"), INVALID)
def test_an_invalid_weight_or_tax_class_in_a_patch_is_a_400_and_changes_nothing(staff_client, api_client, fields,
                                                                                 named):
    ProductFactory(sku="LAMP", weight=Decimal("2.500"))
    assert api_client.get(detail("LAMP")).status_code == 200  # cached now

    response = staff_client.patch(detail("LAMP"), fields, format="json", HTTP_IF_MATCH='"1"')

    assert problem_fields(response) == named
    shown = api_client.get(detail("LAMP")).json()
    assert (shown["weight"], shown["tax_class"], shown["version"]) == ("2.500", "standard", 1)
    product = Product.objects.get(pk="LAMP")
    assert (product.weight, product.tax_class, product.version) == (Decimal("2.500"), "standard", 1)


def test_weight_and_tax_class_need_catalog_change_product_but_not_change_price(staff_with, customer_client):
    ProductFactory(sku="LAMP")
    change = {"weight": "3.2", "tax_class": "reduced"}

    assert customer_client.patch(detail("LAMP"), change, format="json", HTTP_IF_MATCH="*").status_code == 403
    viewer = client_of(staff_with("catalog.view_product"))
    assert_denied(viewer.patch(detail("LAMP"), change, format="json", HTTP_IF_MATCH="*"), "catalog.change_product")
    product = Product.objects.get(pk="LAMP")
    assert (product.weight, product.tax_class, product.version) == (Decimal(0), "standard", 1)

    editor = client_of(staff_with("catalog.change_product"))  # without catalog.change_price
    response = editor.patch(detail("LAMP"), change, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200
    assert (response.json()["weight"], response.json()["tax_class"]) == ("3.200", "reduced")


def test_the_admin_offers_the_existing_tax_classes_and_saves_weight_and_class(staff_with, api_client):
    ProductFactory(sku="LAMP", price=Decimal("10.00"), currency="EUR")
    assert api_client.get(detail("LAMP")).json()["tax_class"] == "standard"  # cached now
    editor = browser(staff_with("catalog.view_product", "catalog.change_product"))
    url = "/admin/catalog/product/LAMP/change/"
    page = editor.get(url)
    choices = [code for code, _label in page.context["adminform"].form.fields["tax_class"].choices]
    assert choices == ["exempt", "reduced", "standard", "zero"]
    form = {"name": "Lamp", "description": "", "category": "", "active": "on", "attributes": "{}",
            **inline_management_data(page)}

    refused = [editor.post(url, {**form, "weight": weight, "tax_class": "reduced"}) for weight in ("-1", "0.0005")]
    unknown = editor.post(url, {**form, "weight": "1", "tax_class": "luxury"})
    saved = editor.post(url, {**form, "weight": "0.75", "tax_class": "reduced"})

    for response in (*refused, unknown):
        assert response.status_code == 200  # the form again, with its errors
    assert [set(r.context["adminform"].form.errors) for r in (*refused, unknown)] == [
        {"weight"}, {"weight"}, {"tax_class"}]
    assert saved.status_code == 302
    shown = api_client.get(detail("LAMP")).json()
    assert (shown["weight"], shown["tax_class"], shown["version"]) == ("0.750", "reduced", 2)
