"""/api/v1/products/: anonymous reads, staff writes, problem+json errors."""

from decimal import Decimal

import pytest

from apps.catalog.models import Product, Stock, StockAdjustment
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.catalog.invariants import assert_stock_consistent

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])

LIST = "/api/v1/products/"


def detail(sku):
    return f"/api/v1/products/{sku}/"


def skus(response):
    return [item["sku"] for item in response.json()["results"]]


def new_product(**overrides):
    return {"sku": "lamp-1", "name": "Walnut Desk Lamp", "price": "49.90", "currency": "eur",
            "category": None, "attributes": {"color": "walnut"}, **overrides}


# ---------------------------------------------------------------- reads

def test_anyone_lists_active_products_by_sku_with_prices_at_currency_precision(api_client):
    ProductFactory(sku="B-MUG", name="Mug", price=Decimal("7.500"), currency="EUR")
    ProductFactory(sku="A-TEA", name="Tea", price=Decimal("1500"), currency="JPY")
    ProductFactory(sku="C-OLD", active=False)

    response = api_client.get(LIST)

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"sku": "A-TEA", "name": "Tea", "category": None, "price": "1500", "currency": "JPY", "tax_class": "standard",
         "active": True},
        {"sku": "B-MUG", "name": "Mug", "category": None, "price": "7.50", "currency": "EUR", "tax_class": "standard",
         "active": True},
    ]


def test_the_list_filters_by_category_price_range_currency_and_name(api_client):
    garden, books = CategoryFactory(slug="garden"), CategoryFactory(slug="books")
    ProductFactory(sku="G1", name="Watering Can", category=garden, price=Decimal("12.00"))
    ProductFactory(sku="G2", name="Garden Gloves", category=garden, price=Decimal("25.00"))
    ProductFactory(sku="G3", name="Big watering can", category=garden, price=Decimal("60.00"))
    ProductFactory(sku="B1", name="Atlas", category=books, price=Decimal("30.00"), currency="USD")

    assert skus(api_client.get(LIST, {"category": "garden"})) == ["G1", "G2", "G3"]
    assert skus(api_client.get(LIST, {"min_price": "20", "max_price": "30"})) == ["B1", "G2"]
    assert skus(api_client.get(LIST, {"currency": "usd"})) == ["B1"]
    assert skus(api_client.get(LIST, {"search": "WATERING"})) == ["G1", "G3"]
    assert skus(api_client.get(LIST, {"search": "can", "category": "garden", "max_price": "50"})) == ["G1"]
    assert skus(api_client.get(LIST, {"search": "(.*"})) == []


def test_only_staff_see_inactive_products_and_may_filter_on_active(api_client, staff_client):
    ProductFactory(sku="ON")
    ProductFactory(sku="OFF", active=False)

    assert skus(api_client.get(LIST, {"active": "false"})) == ["ON"]
    assert skus(staff_client.get(LIST)) == ["OFF", "ON"]
    assert skus(staff_client.get(LIST, {"active": "false"})) == ["OFF"]


def test_invalid_filters_are_a_400_problem_naming_the_field(api_client):
    response = api_client.get(LIST, {"min_price": "cheap", "max_price": "-1"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert {error["field"] for error in response.json()["errors"]} == {"min_price", "max_price"}


def test_the_list_pages_with_opaque_cursors(api_client):
    for n in range(5):
        ProductFactory(sku=f"P{n}")

    first = api_client.get(LIST, {"page_size": 2}).json()
    second = api_client.get(first["next"]).json()
    third = api_client.get(second["next"]).json()

    assert [p["sku"] for page in (first, second, third) for p in page["results"]] == ["P0", "P1", "P2", "P3", "P4"]
    assert "cursor=" in first["next"] and "offset" not in first["next"]
    assert third["next"] is None


def test_the_detail_shows_availability_and_the_version_as_etag(api_client):
    ProductFactory(sku="LAMP", price=Decimal("19.99"), units=7, attributes={"color": "red"})
    ProductFactory(sku="GONE", units=0)

    response = api_client.get(detail("LAMP"))

    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert (body["price"], body["version"], body["attributes"]) == ("19.99", 1, {"color": "red"})
    assert body["availability"] == {"available": 7, "in_stock": True}
    assert api_client.get(detail("GONE")).json()["availability"] == {"available": 0, "in_stock": False}


def test_an_unknown_sku_is_a_404_problem(api_client):
    response = api_client.get(detail("NOPE-1"))

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert "NOPE-1" in response.json()["detail"]


# ---------------------------------------------------------------- staff writes

def test_staff_create_a_product_with_its_stock_row(staff_client):
    CategoryFactory(slug="lighting")

    response = staff_client.post(LIST, new_product(category="lighting"), format="json")

    assert response.status_code == 201
    assert response["Location"].endswith("/api/v1/products/LAMP-1/")
    assert response["ETag"] == '"1"'
    body = response.json()
    assert (body["sku"], body["price"], body["currency"], body["category"]) == ("LAMP-1", "49.90", "EUR", "lighting")
    assert body["availability"] == {"available": 0, "in_stock": False}
    assert Stock.objects.filter(pk="LAMP-1").exists()


def test_creating_needs_staff(api_client, customer_client):
    assert api_client.post(LIST, new_product(), format="json").status_code == 401
    assert customer_client.post(LIST, new_product(), format="json").status_code == 403
    assert not Product.objects.exists()


@pytest.mark.parametrize(("price", "currency", "field"), [
    ("19.999", "EUR", "price"),  # EUR has 2 decimal places
    ("1500.5", "JPY", "price"),  # JPY has none
    ("-1.00", "EUR", "price"),
    ("abc", "EUR", "price"),
    ("10.00", "EURO", "currency"),
    ("10.00", "XYZ", "currency"),
])
def test_an_invalid_price_or_currency_is_a_400_with_field_errors(staff_client, price, currency, field):
    response = staff_client.post(LIST, new_product(price=price, currency=currency), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in {error["field"] for error in response.json()["errors"]}
    assert not Product.objects.exists()


def test_an_unknown_category_or_bad_sku_is_a_400(staff_client):
    response = staff_client.post(LIST, new_product(sku="no spaces!", category="nowhere"), format="json")

    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"sku"}
    response = staff_client.post(LIST, new_product(category="nowhere"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "category"


def test_a_duplicate_sku_is_a_409(staff_client):
    ProductFactory(sku="LAMP-1")

    response = staff_client.post(LIST, new_product(), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "product_exists"


def test_patch_with_the_current_etag_changes_the_product_and_its_version(staff_client):
    ProductFactory(sku="LAMP", price=Decimal("19.99"))
    etag = staff_client.get(detail("LAMP"))["ETag"]

    response = staff_client.patch(detail("LAMP"), {"price": "17.50", "name": "Lamp (sale)"}, format="json",
                                  HTTP_IF_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert (response.json()["price"], response.json()["name"]) == ("17.50", "Lamp (sale)")
    assert Product.objects.get(pk="LAMP").price == Decimal("17.50")


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(staff_client):
    ProductFactory(sku="LAMP", price=Decimal("19.99"))
    stale = staff_client.get(detail("LAMP"))["ETag"]
    staff_client.patch(detail("LAMP"), {"name": "Renamed"}, format="json", HTTP_IF_MATCH=stale)

    response = staff_client.patch(detail("LAMP"), {"price": "1.00"}, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert Product.objects.get(pk="LAMP").price == Decimal("19.99")


def test_patch_without_if_match_is_428(staff_client):
    ProductFactory(sku="LAMP")

    response = staff_client.patch(detail("LAMP"), {"name": "Renamed"}, format="json")

    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    assert Product.objects.get(pk="LAMP").version == 1


def test_patch_checks_a_new_price_against_the_current_currency(staff_client):
    ProductFactory(sku="TEA", price=Decimal("1500"), currency="JPY")

    response = staff_client.patch(detail("TEA"), {"price": "15.50"}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "price"


def test_patch_of_an_unknown_sku_is_404_and_put_is_not_allowed(staff_client):
    ProductFactory(sku="LAMP")

    assert staff_client.patch(detail("NOPE"), {"name": "x"}, format="json", HTTP_IF_MATCH='"1"').status_code == 404
    assert staff_client.put(detail("LAMP"), new_product(), format="json").status_code == 405


def test_deactivate_takes_the_product_off_the_public_list(api_client, staff_client):
    ProductFactory(sku="LAMP")

    response = staff_client.post(f"{detail('LAMP')}deactivate/")
    again = staff_client.post(f"{detail('LAMP')}deactivate/", HTTP_IF_MATCH=response["ETag"])

    assert response.status_code == again.status_code == 200
    assert response.json()["active"] is False
    assert skus(api_client.get(LIST)) == []
    assert api_client.get(detail("LAMP")).json()["active"] is False


# ---------------------------------------------------------------- stock adjustments

def test_staff_adjust_stock_and_the_change_is_audited_with_who_and_why(staff_client, staff):
    ProductFactory(sku="LAMP", units=5)

    response = staff_client.post(f"{detail('LAMP')}stock-adjustments/", {"delta": 12, "reason": "delivery 42"},
                                 format="json", HTTP_IDEMPOTENCY_KEY="adj-1")

    assert response.status_code == 201
    body = response.json()
    assert (body["sku"], body["delta"], body["reason"], body["actor"], body["status"]) == (
        "LAMP", 12, "delivery 42", "staff", "applied")
    assert (body["stocked_after"], body["available_after"]) == (17, 17)
    audit = StockAdjustment.objects.get()
    assert (audit.actor_id, audit.actor_name) == (str(staff.pk), "staff")
    assert assert_stock_consistent("LAMP", stocked=17)["available"] == 17
    assert staff_client.get(detail("LAMP")).json()["availability"]["available"] == 17


def test_a_retried_adjustment_with_the_same_idempotency_key_applies_once(staff_client):
    ProductFactory(sku="LAMP", units=5)
    url = f"{detail('LAMP')}stock-adjustments/"

    first = staff_client.post(url, {"delta": -2, "reason": "damaged"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    retry = staff_client.post(url, {"delta": -2, "reason": "damaged"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert StockAdjustment.objects.count() == 1
    assert assert_stock_consistent("LAMP", stocked=3)["available"] == 3


def test_taking_out_more_than_is_available_is_409_and_audited_as_rejected(staff_client):
    ProductFactory(sku="LAMP", units=5)

    response = staff_client.post(f"{detail('LAMP')}stock-adjustments/", {"delta": -6, "reason": "recount"},
                                 format="json", HTTP_IDEMPOTENCY_KEY="adj-2")

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert StockAdjustment.objects.get().status == StockAdjustment.Status.REJECTED
    assert assert_stock_consistent("LAMP", stocked=5)["available"] == 5


def test_an_adjustment_needs_staff_a_reason_a_nonzero_delta_and_a_known_sku(staff_client, customer_client):
    ProductFactory(sku="LAMP", units=5)
    url = f"{detail('LAMP')}stock-adjustments/"

    assert customer_client.post(url, {"delta": 1, "reason": "x"}, format="json",
                                HTTP_IDEMPOTENCY_KEY="a").status_code == 403
    invalid = staff_client.post(url, {"delta": 0, "reason": ""}, format="json", HTTP_IDEMPOTENCY_KEY="b")
    assert invalid.status_code == 400
    assert {error["field"] for error in invalid.json()["errors"]} == {"delta", "reason"}
    assert staff_client.post(f"{detail('NOPE')}stock-adjustments/", {"delta": 1, "reason": "x"}, format="json",
                             HTTP_IDEMPOTENCY_KEY="c").status_code == 404
    assert staff_client.post(url, {"delta": 1, "reason": "x"}, format="json").status_code == 400  # no key
    assert not StockAdjustment.objects.exists()
