"""make run's demo taxes and voucher (pricing_demo, called by demo_setup): created once, and the
README's storefront flow applies WELCOME10 on them."""

import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.checkout.demo import shipping_demo_setup
from apps.checkout.models import ShippingMethod
from apps.pricing.demo import pricing_demo_setup
from apps.pricing.models import TaxRate, Voucher
from tests.catalog.factories import ProductFactory
from tests.checkout.conftest import apply_code, cart_create, cart_url, token_header

pytestmark = pytest.mark.django_db(databases="__all__")


def test_the_demo_rates_and_voucher_are_created_once():
    first = pricing_demo_setup()
    second = pricing_demo_setup()

    assert (first.rates, first.voucher) == (5, True)
    assert (second.rates, second.voucher) == (0, False)
    assert sorted(TaxRate.objects.values_list("country", "region", "tax_class_id", "rate")) == [
        ("DE", "", "reduced", 7), ("DE", "", "standard", 19), ("FR", "", "reduced", 5.5),
        ("FR", "", "standard", 20), ("US", "CA", "standard", 7.25)]
    voucher = Voucher.objects.get()
    assert (voucher.code, voucher.usage_limit, voucher.usage_limit_per_customer, voucher.promotion.value) == (
        "WELCOME10", 100, 1, 10)
    out = StringIO()
    call_command("pricing_demo", stdout=out)
    assert "demo rates present" in out.getvalue() and "WELCOME10 present" in out.getvalue()


def test_the_storefront_flow_applies_welcome10_on_the_demo_data():
    # Given make run's demo shipping, taxes and voucher, and a product of the demo catalog
    shipping_demo_setup()
    pricing_demo_setup()
    ProductFactory(sku="DEMO-000002", price="24.00", currency="EUR", units=10)
    method = ShippingMethod.objects.get(zone__name="European Union", name="Standard")
    client = APIClient()
    cart = cart_create(client)
    cart.add("DEMO-000002", 2)
    cart.patch({"shipping_address": {"name": "Erika Mustermann", "line1": "Heidestrasse 17", "city": "Berlin",
                                     "postal_code": "10557", "country": "DE"}, "shipping_method_id": method.pk})

    # When the guest applies the demo code and completes the cart
    body = apply_code(cart, "welcome10").json()
    order = client.post(cart_url(cart.id, "complete/"), {"payment_token": "tok_approved", "email": "e@example.com"},
                        format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **token_header(cart.token)).json()

    # Then 10 % comes off and German VAT is added: 19 % of 43.20 (8.21) and of the 4.90 shipping (0.93)
    assert (body["subtotal"], body["shipping"], body["discount"], body["tax"], body["total"]) == (
        "48.00", "4.90", "4.80", "9.14", "57.24")
    assert (order["total"], order["voucher_codes"]) == ("57.24", ["WELCOME10"])
