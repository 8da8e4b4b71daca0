"""Staff in the admin: shipping zones, methods and rate bands (with their permissions), carts
read-only with an abandoned-carts filter."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from apps.checkout.demo import shipping_demo_setup
from apps.checkout.models import Cart as CartRow
from apps.checkout.models import ShippingMethod, ShippingRate, ShippingZone
from tests.checkout.conftest import BERLIN, cart_create

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])

ZONES, METHODS, CARTS = "/admin/checkout/shippingzone/", "/admin/checkout/shippingmethod/", "/admin/checkout/cart/"


def staff_client(django_user_model, role: str) -> Client:
    user = django_user_model.objects.create_user(role.lower().replace(" ", "-"), password="pw-staff-1", is_staff=True)
    user.groups.set([Group.objects.get(name=role)])
    client = Client()
    client.force_login(user)
    return client


def method_form(zone, **fields) -> dict:
    data = {"zone": zone.pk, "name": "Express", "currency": "eur", "kind": "weight", "price": "0", "free_above": "",
            "active": "on", "rates-TOTAL_FORMS": "2", "rates-INITIAL_FORMS": "0", "rates-MIN_NUM_FORMS": "0",
            "rates-MAX_NUM_FORMS": "1000",
            "rates-0-min_value": "0", "rates-0-max_value": "5", "rates-0-price": "6.50",
            "rates-1-min_value": "5", "rates-1-max_value": "", "rates-1-price": "12.00"}
    return {**data, **fields}


def test_a_catalog_manager_sets_up_a_zone_and_a_weight_method_with_bands(django_user_model):
    client = staff_client(django_user_model, "Catalog manager")
    response = client.post(f"{ZONES}add/", {"name": "DACH", "countries": "de, at ch"})
    assert response.status_code == 302
    zone = ShippingZone.objects.get(name="DACH")
    assert zone.countries == ["AT", "CH", "DE"]
    assert client.post(f"{METHODS}add/", method_form(zone)).status_code == 302
    method = ShippingMethod.objects.get(name="Express")
    assert method.currency == "EUR"
    assert [(rate.min_value, rate.max_value, rate.price) for rate in method.rates.all()] == [
        (Decimal(0), Decimal(5), Decimal("6.50")), (Decimal(5), None, Decimal("12.00"))]


def test_unknown_countries_overlapping_bands_and_bad_amounts_are_refused(django_user_model):
    client = staff_client(django_user_model, "Catalog manager")
    bad_zone = client.post(f"{ZONES}add/", {"name": "Nowhere", "countries": "DE, QQ"})
    assert bad_zone.status_code == 200 and b"QQ" in bad_zone.content
    zone = ShippingZone.objects.create(name="EU", countries=["DE"])
    overlapping = client.post(f"{METHODS}add/", method_form(zone, **{"rates-1-min_value": "4"}))
    too_precise = client.post(f"{METHODS}add/", method_form(zone, **{"rates-0-price": "6.505"}))
    yen_cents = client.post(f"{METHODS}add/", method_form(zone, currency="JPY", kind="flat", price="5.50"))
    for page in (overlapping, too_precise, yen_cents):
        assert page.status_code == 200
    assert b"overlap" in overlapping.content
    assert not ShippingMethod.objects.exists() and not ShippingRate.objects.exists()


def test_only_roles_holding_the_permissions_manage_shipping(django_user_model):
    zone = ShippingZone.objects.create(name="EU", countries=["DE"])
    handler = staff_client(django_user_model, "Order handler")
    support = staff_client(django_user_model, "Support")
    assert handler.get(ZONES).status_code == 200  # may look
    assert handler.post(f"{ZONES}add/", {"name": "US", "countries": "US"}).status_code == 403
    assert handler.post(f"{ZONES}{zone.pk}/delete/", {"post": "yes"}).status_code == 403
    assert support.get(ZONES).status_code == 403
    assert ShippingZone.objects.count() == 1


def test_carts_are_read_only_and_the_abandoned_filter_finds_idle_carts_with_lines(django_user_model, api_client,
                                                                                  product):
    product("LAMP")
    idle, fresh, empty = cart_create(api_client), cart_create(api_client), cart_create(api_client)
    idle.add("LAMP")
    idle.patch({"shipping_address": BERLIN})
    fresh.add("LAMP")
    CartRow.objects.filter(pk__in=[idle.id, empty.id]).update(updated_at=timezone.now() - timedelta(days=2))
    client = staff_client(django_user_model, "Support")

    abandoned = client.get(CARTS, {"abandoned": "yes"})
    page = client.get(f"{CARTS}{idle.id}/change/")

    assert [str(cart.pk) for cart in abandoned.context["cl"].result_list] == [idle.id]
    assert page.status_code == 200 and b"Berlin" in page.content and b"subtotal 10.00" in page.content
    assert b"token_hash" not in page.content
    assert client.post(f"{CARTS}{idle.id}/change/", {}).status_code == 403
    assert client.get(f"{CARTS}add/").status_code == 403


def test_the_demo_shipping_is_made_once(db):
    assert shipping_demo_setup() == 6
    assert shipping_demo_setup() == 0
    assert ShippingZone.objects.get(name="United States").countries == ["US"]
    assert set(ShippingMethod.objects.values_list("kind", flat=True)) == {"flat", "subtotal", "weight"}


def test_searching_carts_by_anything_but_an_id_finds_nothing_and_fails_nothing(django_user_model, api_client):
    cart = cart_create(api_client)
    client = staff_client(django_user_model, "Support")
    assert client.get(CARTS, {"q": "not-a-uuid"}).status_code == 200
    found = client.get(CARTS, {"q": cart.id})
    assert [str(row.pk) for row in found.context["cl"].result_list] == [cart.id]
