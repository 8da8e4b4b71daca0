"""Bench fixtures, run in the bench environment (bench.settings, bench databases).

    python -m bench.fixtures                      -> {"token", "skus"}: a customer and stocked SKUs
    python -m bench.fixtures --count-queries      -> queries per order placement by number of lines
    python -m bench.fixtures --count-read-queries -> queries per uncached product detail and list
    python -m bench.fixtures --carts N FILE       -> N guest carts ready to complete, "id token" per line
                                                     in FILE; {"carts", "priced": a template's totals}
"""

from __future__ import annotations

import json
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from apps.catalog.models import Product, Stock  # noqa: E402
from apps.checkout.demo import shipping_demo_setup  # noqa: E402
from apps.checkout.models import Cart, CartLine, ShippingMethod  # noqa: E402
from apps.checkout.tokens import cart_token_new  # noqa: E402
from apps.pricing.models import Promotion, TaxRate, Voucher  # noqa: E402

UNLIMITED = 10**9


def customer_and_skus() -> dict:
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    token, _ = Token.objects.get_or_create(user=user)
    skus = list(Product.objects.filter(active=True, currency="USD").order_by("pk").values_list("pk", flat=True)[:50])
    # The bench measures placement, not running out: every SKU has more units than a run sells.
    Stock.objects.filter(product_id__in=skus).update(stocked=UNLIMITED, on_hand=UNLIMITED, available=UNLIMITED,
                                                     held=0, committed=0)
    return {"token": token.key, "skus": skus}


def _count(call) -> int:
    contexts = [CaptureQueriesContext(connections[alias]) for alias in settings.DATABASES]
    for context in contexts:
        context.__enter__()
    try:
        call()
    finally:
        for context in contexts:
            context.__exit__(None, None, None)
    return sum(len(context.captured_queries) for context in contexts)


def order_queries() -> dict:
    facts = customer_and_skus()
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {facts['token']}")
    counts = {}
    for lines in (1, 2, 3):
        body = {"lines": [{"sku": sku, "quantity": 1} for sku in facts["skus"][:lines]],
                "payment_token": "tok_approved"}

        def place(body=body):
            response = client.post("/api/v1/orders/", body, content_type="application/json",
                                   HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
            assert response.status_code == 201, response.content

        place()  # warm: first-request work (content types, token lookups) is not per order
        counts[str(lines)] = _count(place)
    return counts


def read_queries() -> dict:
    sku = customer_and_skus()["skus"][0]
    client = Client(HTTP_HOST="localhost")
    client.get(f"/api/v1/products/{sku}/")
    return {"detail": _count(lambda: client.get(f"/api/v1/products/{sku}/")),
            "list": _count(lambda: client.get("/api/v1/products/"))}


# S6: guest carts shipped to New York by weight-priced Freight, taxed (a US rate of the standard class)
# and with a 10 % voucher when the cart takes one.
ADDRESS = {"name": "Bench Buyer", "line1": "350 Fifth Avenue", "city": "New York", "region": "NY",
           "postal_code": "10118", "country": "US"}
VOUCHER = "BENCH10"
TEMPLATES = 10  # one template cart per SKU; the others are copies of them


def completion_route_exists() -> bool:
    try:
        resolve(f"/api/v1/carts/{uuid.uuid4()}/complete/")
    except Resolver404:
        return False
    return True


def _template_cart(client: Client, sku: str, method_id: int) -> tuple[str, dict, list[str]]:
    """A guest cart made over HTTP as a storefront makes it: (id, its priced body, notes)."""
    created = client.post("/api/v1/carts/", {"currency": "USD"}, content_type="application/json")
    assert created.status_code == 201, created.content
    cart_id, token = created.json()["id"], created.json()["token"]
    headers = {"HTTP_X_CART_TOKEN": token}

    def write(method, path, body, etag):
        response = getattr(client, method)(f"/api/v1/carts/{cart_id}/{path}", body, content_type="application/json",
                                           HTTP_IF_MATCH=etag, **headers)
        return response

    response = write("post", "lines/", {"sku": sku, "quantity": 1}, created.headers["ETag"])
    assert response.status_code == 200, response.content
    response = write("patch", "", {"shipping_address": ADDRESS, "shipping_method_id": method_id},
                     response.headers["ETag"])
    assert response.status_code == 200, response.content
    notes = []
    voucher = write("post", "codes/", {"code": VOUCHER}, response.headers["ETag"])
    if voucher.status_code == 200:
        response = voucher
    else:
        notes.append(f"no voucher: POST codes/ answered {voucher.status_code} {voucher.content[:200]!r}")
    return cart_id, response.json(), notes


def carts_ready(count: int, path: Path) -> dict:
    if not completion_route_exists():
        return {"skipped": "POST /api/v1/carts/{id}/complete/ does not exist yet"}
    skus = customer_and_skus()["skus"][:TEMPLATES]
    shipping_demo_setup()
    method = ShippingMethod.objects.get(name="Freight (by weight)", currency="USD")  # no free-shipping threshold
    TaxRate.objects.update_or_create(country="US", region="NY", tax_class_id="standard",
                                     defaults={"rate": Decimal("8.875")})
    promotion, _ = Promotion.objects.get_or_create(name="Bench 10 %", defaults={
        "kind": "percentage", "value": Decimal("10"), "applies_automatically": False})
    Voucher.objects.get_or_create(code=VOUCHER, defaults={"promotion": promotion})
    client = Client(HTTP_HOST="localhost")
    templates, priced, notes = [], None, []
    for sku in skus:
        cart_id, body, notes = _template_cart(client, sku, method.pk)
        templates.append(Cart.objects.get(pk=cart_id))
        priced = priced or body
    # Copies of the templates, each with a token of its own (every field copied as it is).
    lines = {cart.pk: list(CartLine.objects.filter(cart=cart)) for cart in templates}
    rows = []
    with path.open("w") as out:
        for index in range(count):
            template = templates[index % len(templates)]
            token, token_hash = cart_token_new()
            cart = Cart(**{field.attname: getattr(template, field.attname) for field in Cart._meta.concrete_fields})
            cart.id, cart.token_hash = uuid.uuid4(), token_hash
            rows.append((cart, lines[template.pk]))
            out.write(f"{cart.id} {token}\n")
    Cart.objects.bulk_create([cart for cart, _ in rows], batch_size=500)
    CartLine.objects.bulk_create([
        CartLine(**{**{field.attname: getattr(line, field.attname) for field in CartLine._meta.concrete_fields},
                    "id": None, "cart_id": cart.id})
        for cart, template_lines in rows for line in template_lines], batch_size=500)
    keys = ("currency", "subtotal", "shipping", "discount", "tax", "total")
    return {"carts": count, "priced": {key: (priced or {}).get(key) for key in keys}, "notes": notes}


if __name__ == "__main__":
    if "--carts" in sys.argv:
        position = sys.argv.index("--carts")
        print(json.dumps(carts_ready(int(sys.argv[position + 1]), Path(sys.argv[position + 2]))))
    elif "--count-queries" in sys.argv:
        print(json.dumps(order_queries()))
    elif "--count-read-queries" in sys.argv:
        print(json.dumps(read_queries()))
    else:
        print(json.dumps(customer_and_skus()))
