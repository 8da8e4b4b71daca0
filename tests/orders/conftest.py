import re
import uuid
from decimal import Decimal

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from apps.catalog.models import Reservation, Stock
from apps.payments import api as payments_api
from tests.catalog.factories import ProductFactory

APPROVED = "tok_approved"
DECLINED = "tok_declined"


@pytest.fixture
def stock(db):
    """stock(sku, price, currency, units): a product on sale with that many units."""

    def make(sku: str, price: str = "10.00", currency: str = "USD", units: int = 10):
        return ProductFactory(sku=sku, price=Decimal(price), currency=currency, units=units)

    return make


def available(sku: str) -> int:
    return Stock.objects.get(product_id=sku).available


def held_for(order_id) -> int:
    """Units the catalog holds for the order (reserved, neither committed nor given back)."""
    held = Reservation.objects.filter(order_id=order_id, status=Reservation.Status.HELD)
    return held.aggregate(units=Sum("quantity", default=0))["units"]


def place(client, lines, token=APPROVED, key=None, **extra):
    body = {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines], "payment_token": token, **extra}
    return client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def action(client, order_id, name, body=None, key=None, **headers):
    return client.post(f"/api/v1/orders/{order_id}/{name}/", body or {}, format="json",
                       HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex, **headers)


def hidden_inputs(page: str) -> dict:
    """What a browser would send back of the change form besides what the user typed."""
    fields = {}
    for tag in re.findall(r"<input[^>]+>", page):
        if 'type="hidden"' in tag and (name := re.search(r'name="([^"]+)"', tag)):
            value = re.search(r'value="([^"]*)"', tag)
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def payment_status(order_id) -> str | None:
    info = payments_api.payment_for_order(order_id=uuid.UUID(str(order_id)))
    return info.status if info else None


@pytest.fixture
def staff_api(staff):
    client = APIClient()
    client.force_authenticate(staff)
    return client
