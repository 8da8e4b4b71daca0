"""Bench fixtures, run in the bench environment (bench.settings, bench databases).

    python -m bench.fixtures                      -> {"token", "skus"}: a customer and stocked SKUs
    python -m bench.fixtures --count-queries      -> queries per order placement by number of lines
    python -m bench.fixtures --count-read-queries -> queries per uncached product detail and list
"""

from __future__ import annotations

import json
import sys
import uuid

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from apps.catalog.models import Product, Stock  # noqa: E402

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


if __name__ == "__main__":
    if "--count-queries" in sys.argv:
        print(json.dumps(order_queries()))
    elif "--count-read-queries" in sys.argv:
        print(json.dumps(read_queries()))
    else:
        print(json.dumps(customer_and_skus()))
