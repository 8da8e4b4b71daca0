"""Helpers for the cart API: a cart is created, read and written over HTTP as a storefront does."""

from decimal import Decimal

import pytest

from apps.catalog.models import Product, Stock
from apps.checkout.models import ShippingMethod, ShippingRate, ShippingZone
from apps.pricing.models import TaxClass
from tests.catalog.factories import ProductFactory
from tests.pricing.factories import TaxRateFactory

CARTS = "/api/v1/carts/"


@pytest.fixture
def product(db):
    """product(sku, price, currency, units, weight, tax_class, category): a product on sale."""

    def make(sku: str, price: str = "10.00", currency: str = "EUR", units: int = 10, weight: str = "0",
             tax_class: str = "standard", category=None):
        return ProductFactory(sku=sku, price=Decimal(price), currency=currency, units=units, weight=Decimal(weight),
                              tax_class=tax_class, category=category)

    return make


def cart_url(cart_id, suffix: str = "") -> str:
    return f"{CARTS}{cart_id}/{suffix}"


def token_header(token: str | None) -> dict:
    return {"HTTP_X_CART_TOKEN": token} if token else {}


def if_match(response_or_etag) -> dict:
    etag = response_or_etag if isinstance(response_or_etag, str) else response_or_etag.headers["ETag"]
    return {"HTTP_IF_MATCH": etag}


class Cart:
    """A cart seen from a client: its id, its token (guests), the last ETag it was answered."""

    def __init__(self, client, response):
        assert response.status_code in (200, 201), response.content
        self.client, self.id = client, response.json()["id"]
        self.token = response.json().get("token")
        self.etag = response.headers["ETag"]
        self.last = response

    def _answered(self, response):
        if response.status_code == 200:
            self.etag = response.headers["ETag"]
        self.last = response
        return response

    def get(self):
        return self._answered(self.client.get(cart_url(self.id), **token_header(self.token)))

    def body(self) -> dict:
        response = self.get()
        assert response.status_code == 200, response.content
        return response.json()

    def add(self, sku: str, quantity: int = 1, etag: str | None = None):
        body = {"sku": sku, "quantity": quantity}
        return self._answered(self.client.post(cart_url(self.id, "lines/"), body, format="json",
                                               **token_header(self.token), **if_match(etag or self.etag)))

    def change(self, sku: str, quantity: int):
        return self._answered(self.client.put(cart_url(self.id, f"lines/{sku}/"), {"quantity": quantity},
                                              format="json", **token_header(self.token), **if_match(self.etag)))

    def remove(self, sku: str):
        return self._answered(self.client.delete(cart_url(self.id, f"lines/{sku}/"), **token_header(self.token),
                                                 **if_match(self.etag)))

    def patch(self, body: dict, etag: str | None = None):
        return self._answered(self.client.patch(cart_url(self.id), body, format="json", **token_header(self.token),
                                                **if_match(etag or self.etag)))


def cart_create(client, currency: str = "EUR") -> Cart:
    return Cart(client, client.post(CARTS, {"currency": currency}, format="json"))


def line(body: dict, sku: str) -> dict:
    return next(item for item in body["lines"] if item["sku"] == sku)


def stock_set(sku: str, available: int) -> None:
    Stock.objects.filter(pk=sku).update(available=available, on_hand=available, stocked=available)


def product_set(sku: str, **fields) -> None:
    """A catalog change made behind the cart's back (staff, another module)."""
    Product.objects.filter(pk=sku).update(**fields)


@pytest.fixture
def shipping(db):
    """EU zone (DE, FR, AT) in EUR: a flat method free from 50.00, a subtotal-band method and a
    weight-band method; a US zone in USD with a flat method. Returns the methods by name."""
    eu = ShippingZone.objects.create(name="EU", countries=["AT", "DE", "FR"])
    us = ShippingZone.objects.create(name="US", countries=["US"])
    flat = ShippingMethod.objects.create(zone=eu, name="Standard", currency="EUR", kind="flat",
                                         price=Decimal("4.90"), free_above=Decimal("50.00"))
    by_value = ShippingMethod.objects.create(zone=eu, name="Economy", currency="EUR", kind="subtotal")
    for low, high, price in (("0", "25", "5.90"), ("25", "75", "3.90"), ("75", None, "0")):
        ShippingRate.objects.create(method=by_value, min_value=Decimal(low),
                                    max_value=Decimal(high) if high else None, price=Decimal(price))
    by_weight = ShippingMethod.objects.create(zone=eu, name="Parcel", currency="EUR", kind="weight")
    for low, high, price in (("0", "2", "4.50"), ("2", "10", "8.90")):
        ShippingRate.objects.create(method=by_weight, min_value=Decimal(low), max_value=Decimal(high),
                                    price=Decimal(price))
    ground = ShippingMethod.objects.create(zone=us, name="Ground", currency="USD", kind="flat", price=Decimal("5.99"))
    return {"flat": flat, "subtotal": by_value, "weight": by_weight, "us": ground}


BERLIN = {"name": "Erika Mustermann", "line1": "Heidestrasse 17", "city": "Berlin", "postal_code": "10557",
          "country": "DE"}
PARIS = {"name": "Jean Dupont", "line1": "10 rue de Rivoli", "city": "Paris", "postal_code": "75001",
         "country": "FR"}
NEW_YORK = {"name": "John Smith", "line1": "350 Fifth Avenue", "city": "New York", "region": "NY",
            "postal_code": "10118", "country": "US"}


SAN_FRANCISCO = {"name": "Ada Lovelace", "line1": "1 Market Street", "city": "San Francisco", "region": "CA",
                 "postal_code": "94105", "country": "US"}
FR_VAT, DE_VAT = "FR40303265045", "DE136695976"  # valid by format and check digits (python-stdnum)


@pytest.fixture
def tax_rates(db):
    """DE 19 % / 7 %, FR 20 % / 5.5 %, California 7.25 % (standard only)."""
    made = {}
    for country, region, tax_class, rate in (("DE", "", "standard", "19"), ("DE", "", "reduced", "7"),
                                             ("FR", "", "standard", "20"), ("FR", "", "reduced", "5.5"),
                                             ("US", "CA", "standard", "7.25")):
        made[(country, region, tax_class)] = TaxRateFactory(country=country, region=region, rate=Decimal(rate),
                                                            tax_class=TaxClass.objects.get(code=tax_class))
    return made


def apply_code(cart, code: str, etag: str | None = None):
    return cart._answered(cart.client.post(cart_url(cart.id, "codes/"), {"code": code}, format="json",
                                           **token_header(cart.token), **if_match(etag or cart.etag)))


def remove_code(cart, code: str):
    return cart._answered(cart.client.delete(cart_url(cart.id, f"codes/{code}/"), **token_header(cart.token),
                                             **if_match(cart.etag)))
