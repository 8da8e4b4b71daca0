"""The report agrees with the source: orders placed, paid, shipped, cancelled and refunded through
the API reach reporting through the outbox, the relay and the reporting consumer, and the
reports' totals are the orders' own."""

import uuid
from collections import defaultdict
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.common.money import money
from apps.orders.models import Order
from apps.reporting.models import PaymentReport
from tests.catalog.factories import ProductFactory

# Transactional: every commit runs the outbox relay, which (tasks eager, as in the embedded default)
# hands each event to the registered consumers in-process, reporting among them.
pytestmark = pytest.mark.django_db(databases=["default", "catalog", "reporting"], transaction=True)


def _post(client, url, body=None):
    response = client.post(url, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert response.status_code in (200, 201), response.json()
    return response.json()


def _place(client, lines, token="tok_approved"):
    body = {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines], "payment_token": token}
    return client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


def _pages(client, url) -> list[dict]:
    rows, response = [], client.get(url)
    while True:
        assert response.status_code == 200, response.json()
        rows.extend(response.json()["results"])
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


def test_report_totals_equal_the_orders_own_totals(customer, staff):
    shopper, clerk = APIClient(), APIClient()
    shopper.force_authenticate(customer)
    clerk.force_authenticate(staff)
    # Given products in two currencies
    ProductFactory(sku="MUG-1", price=Decimal("12.50"), currency="USD", units=50)
    ProductFactory(sku="TEE-2", price=Decimal("20.00"), currency="USD", units=50)
    ProductFactory(sku="CUP-3", price=Decimal("9.90"), currency="EUR", units=50)

    # When a customer places orders and staff ship, cancel and refund them
    shipped = _place(shopper, [("MUG-1", 2)]).json()  # 25.00, shipped, 5.00 refunded
    refunded = _place(shopper, [("MUG-1", 1), ("TEE-2", 1)]).json()  # 32.50, shipped, fully refunded
    cancelled = _place(shopper, [("TEE-2", 1)]).json()  # 20.00, cancelled before shipment
    kept = _place(shopper, [("MUG-1", 3)]).json()  # 37.50, shipped
    euro = _place(shopper, [("CUP-3", 2)]).json()  # 19.80 EUR, shipped, 9.90 refunded in two goes
    waiting = _place(shopper, [("TEE-2", 2)]).json()  # 40.00, confirmed, not shipped yet
    assert _place(shopper, [("MUG-1", 1)], token="tok_declined").status_code == 402  # never placed
    for order in (shipped, refunded, kept, euro):
        _post(clerk, f"/api/v1/orders/{order['id']}/ship/")
    _post(clerk, f"/api/v1/orders/{cancelled['id']}/cancel/", {"reason": "Changed my mind"})
    _post(clerk, f"/api/v1/orders/{shipped['id']}/refund/", {"amount": "5.00"})
    _post(clerk, f"/api/v1/orders/{refunded['id']}/refund/", {"amount": "32.50"})
    _post(clerk, f"/api/v1/orders/{euro['id']}/refund/", {"amount": "4.95"})
    _post(clerk, f"/api/v1/orders/{euro['id']}/refund/", {"amount": "4.95"})

    # Then each order in the report is the order as the orders module has it
    placed = {str(order.id): order for order in Order.objects.exclude(status__in=["rejected", "payment_failed"])}
    report = {row["order_id"]: row for row in _pages(clerk, "/api/v1/reports/orders/")}
    assert set(report) == set(placed) == {o["id"] for o in (shipped, refunded, cancelled, kept, euro, waiting)}
    for order_id, order in placed.items():
        row = report[order_id]
        assert (row["number"], row["status"], row["currency"]) == (order.number, order.status, order.currency)
        assert row["total"] == str(money(order.total, order.currency))
        assert row["refunded_amount"] == str(money(order.refunded_amount, order.currency))
        assert (row["shipped_at"] is None) == (order.shipped_at is None)
        assert (row["cancelled_at"] is None) == (order.cancelled_at is None)

    # And the daily sales add up to the orders' totals, per currency
    sold, refunds, counted = defaultdict(Decimal), defaultdict(Decimal), defaultdict(int)
    for order in placed.values():
        refunds[order.currency] += order.refunded_amount
        if order.status != "cancelled":
            sold[order.currency] += order.total
            counted[order.currency] += 1
    days = _pages(clerk, "/api/v1/reports/daily-sales/")
    for currency in ("USD", "EUR"):
        rows = [row for row in days if row["currency"] == currency]
        assert sum(row["orders"] for row in rows) == counted[currency]
        assert sum(Decimal(row["gross"]) for row in rows) == sold[currency]
        assert sum(Decimal(row["refunds"]) for row in rows) == refunds[currency]
        assert sum(Decimal(row["net"]) for row in rows) == sold[currency] - refunds[currency]
    assert (sold["USD"], refunds["USD"], sold["EUR"], refunds["EUR"]) == (
        Decimal("135.00"), Decimal("37.50"), Decimal("19.80"), Decimal("9.90"))

    # And the CSV export says the same
    export = clerk.get("/api/v1/reports/daily-sales/export.csv", {"currency": "USD"})
    body = b"".join(export.streaming_content).decode().splitlines()
    net = body[0].split(",").index("net")
    assert sum(Decimal(line.split(",")[net]) for line in body[1:]) == Decimal("97.50")

    # And the payments' own events agree: the declined one failed, the cancelled one was voided
    statuses = {row.order_id: row.status for row in PaymentReport.objects.all()}
    assert statuses[uuid.UUID(cancelled["id"])] == "voided"
    assert statuses[uuid.UUID(refunded["id"])] == "refunded"
    assert statuses[uuid.UUID(kept["id"])] == "captured"
    assert "failed" in statuses.values()
