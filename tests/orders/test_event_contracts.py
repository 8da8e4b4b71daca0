"""Producer contracts: every event the real code paths emit, with each optional field absent
and present, validates against its published schema; and both consumers apply them. Orders
placed server to server and orders completed from a storefront's cart (guests' included) emit
version 2 of the order events (addresses, shipping, the totals breakdown).

An order placed by an account without an email (users created in the admin have none) used to
emit events with `"email": ""`, which every order schema refused: the order then appeared in no
report and no notification, and nothing said so."""

import json
import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from apps.checkout.models import ShippingMethod, ShippingZone
from apps.common.messaging import schemas
from apps.common.messaging.relay import InProcessPublisher, outbox_relay
from apps.common.messaging.schemas import SCHEMA_DIR, validate_event_data
from apps.common.models import OutboxEvent, RejectedEvent
from apps.notifications.models import Channel, Delivery
from apps.pricing.models import TaxClass, TaxRate
from apps.reporting.models import DailySales, OrderDiscount, OrderRefund, OrderReport
from tests.orders.conftest import DECLINED, action, place
from tests.pricing.factories import PromotionFactory, VoucherFactory

pytestmark = pytest.mark.django_db(databases="__all__")

# The order and payment events (accounts.* have their own contract test in tests/accounts).
PUBLISHED_TYPES = sorted(path.name.rsplit(".v", 1)[0] for module in ("orders", "payments")
                         for path in SCHEMA_DIR.glob(f"{module}.*.v1.json"))
# What producers emit now: the latest version of each order and payment event.
LATEST = {event_type: max(int(path.name.rsplit(".v", 1)[1].removesuffix(".json"))
                          for path in SCHEMA_DIR.glob(f"{event_type}.v*.json"))
          for event_type in PUBLISHED_TYPES}
BERLIN = {"name": "Erika Mustermann", "line1": "Heidestrasse 17", "city": "Berlin", "postal_code": "10557",
          "country": "DE"}
WITHOUT = {"email": "", "phone": "", "body": {}}
WITH = {"email": "buyer@example.com", "phone": "+14155550123", "body": {"email": "buyer@example.com",
                                                                         "phone": "+14155550123"}}


def every_flow(stock, staff_api, contact) -> tuple[APIClient, list[str]]:
    """Place, ship, refund part; place and cancel; place with a declined card. Returns the
    customer's client and the ids of the orders."""
    stock("MUG-1", "12.50", units=10)
    user = get_user_model().objects.create_user(f"c-{uuid.uuid4().hex[:6]}", contact["email"], "pw-customer-1")
    client = APIClient()
    client.force_authenticate(user)
    extra = contact["body"]
    shipped = place(client, [("MUG-1", 2)], **extra).json()
    assert action(staff_api, shipped["id"], "ship").status_code == 200
    assert action(staff_api, shipped["id"], "refund", {"amount": "5.00"}).status_code == 200
    cancelled = place(client, [("MUG-1", 1)], **extra).json()
    assert action(client, cancelled["id"], "cancel", {"reason": "changed my mind"}).status_code == 200
    declined = place(client, [("MUG-1", 1)], token=DECLINED, **extra)
    assert declined.status_code == 402
    return client, [shipped["id"], cancelled["id"]]


@pytest.mark.parametrize("contact", [WITHOUT, WITH], ids=["without-email-and-phone", "with-email-and-phone"])
def test_every_event_the_producers_emit_validates_against_its_schema(stock, staff_api, contact):
    every_flow(stock, staff_api, contact)
    events = list(OutboxEvent.objects.all())
    for event in events:
        validate_event_data(event.event_type, event.version, event.data)
        assert event.version == LATEST[event.event_type]
        assert event.data["email"] == contact["email"] if event.event_type.startswith("orders.") else True
    # These flows reach every published event type: a new schema needs a producer path here
    assert sorted({event.event_type for event in events}) == PUBLISHED_TYPES


def storefront_flow(stock, staff_api) -> tuple[str, str]:
    """A guest completes a cart (shipped, then refunded in part) and a customer completes another
    (then cancels it), both to Berlin by Standard shipping. Returns the two orders' ids."""
    stock("MUG-1", "12.50", currency="EUR", units=10)
    zone = ShippingZone.objects.create(name="EU", countries=["DE"])
    method = ShippingMethod.objects.create(zone=zone, name="Standard", currency="EUR", price=Decimal("4.90"))
    guest = APIClient()
    customer = APIClient()
    customer.force_authenticate(get_user_model().objects.create_user("shopper", "shopper@example.com", "pw-1"))
    orders = []
    for client, body in ((guest, {"email": "erika@example.com"}), (customer, {})):
        cart = client.post("/api/v1/carts/", {"currency": "EUR"}, format="json")
        token = {"HTTP_X_CART_TOKEN": cart.json()["token"]} if "token" in cart.json() else {}
        url = f"/api/v1/carts/{cart.json()['id']}/"
        added = client.post(f"{url}lines/", {"sku": "MUG-1", "quantity": 2}, format="json",
                            HTTP_IF_MATCH=cart.headers["ETag"], **token)
        ready = client.patch(url, {"shipping_address": BERLIN, "shipping_method_id": method.pk}, format="json",
                             HTTP_IF_MATCH=added.headers["ETag"], **token)
        assert ready.status_code == 200, ready.content
        completed = client.post(f"{url}complete/", {"payment_token": "tok_approved", **body}, format="json",
                                HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **token)
        assert completed.status_code == 201, completed.content
        orders.append(completed.json()["id"])
    guest_order, customer_order = orders
    assert action(staff_api, guest_order, "ship").status_code == 200
    assert action(staff_api, guest_order, "refund", {"amount": "5.00"}).status_code == 200
    assert action(customer, customer_order, "cancel", {"reason": "changed my mind"}).status_code == 200
    return guest_order, customer_order


def test_storefront_orders_emit_version_2_events_with_addresses_shipping_and_breakdown(stock, staff_api):
    guest_order, _ = storefront_flow(stock, staff_api)

    events = [event for event in OutboxEvent.objects.all() if event.event_type.startswith("orders.")]
    for event in events:
        assert event.version == 2
        validate_event_data(event.event_type, 2, event.data)
        assert event.data["shipping_address"]["city"] == "Berlin"
        assert (event.data["shipping_method"], event.data["shipping_total"]) == ("Standard", "4.90")
        assert (event.data["subtotal"], event.data["discount_total"], event.data["tax_total"],
                event.data["total"]) == ("25.00", "0.00", "0.00", "29.90")
    # every order event type is reached in version 2 by these flows
    v2_types = sorted(path.name.removesuffix(".v2.json") for path in SCHEMA_DIR.glob("orders.*.v2.json"))
    assert sorted({event.event_type for event in events}) == v2_types
    # and the guest's order events say it has no customer
    placed = next(event for event in events if event.event_type == "orders.order_placed"
                  and event.aggregate_id == guest_order)
    assert (placed.data["customer_id"], placed.data["email"]) == (None, "erika@example.com")


def test_storefront_orders_are_reported_with_their_shipping_and_emailed_with_the_address(stock, staff_api):
    guest_order, customer_order = storefront_flow(stock, staff_api)
    # When the relay hands the events to the consumers
    outbox_relay(publisher=InProcessPublisher())
    # Then no consumer rejected any
    assert list(RejectedEvent.objects.values_list("consumer", "event_type", "reason")) == []
    # and reporting has the guest's order with its shipping revenue (the cancelled one is no sale)
    report = OrderReport.objects.get(order_id=guest_order)
    assert (report.customer_id, report.shipping_total, report.total) == (None, Decimal("4.90"), Decimal("29.90"))
    sales = DailySales.objects.get(currency="EUR")
    assert (sales.orders, sales.gross, sales.shipping, sales.refunds) == (1, Decimal("29.90"), Decimal("4.90"),
                                                                          Decimal("5.00"))
    assert OrderReport.objects.get(order_id=customer_order).status == "cancelled"
    # and the guest's confirmation shows where it ships and what shipping cost
    email = Delivery.objects.get(event_type="orders.order_placed", recipient="erika@example.com").payload["text"]
    assert "Shipping: 4.90 EUR (Standard)" in email and "Heidestrasse 17" in email


def test_a_discounted_taxed_storefront_order_emits_its_tax_and_discount_lines_which_consumers_apply(stock, staff_api):
    # Given German VAT at 19 % and WELCOME10 (10 % off), a guest's cart of two mugs to Berlin with the code
    TaxRate.objects.create(country="DE", tax_class=TaxClass.objects.get(code="standard"), rate=Decimal("19"))
    VoucherFactory(code="WELCOME10", promotion=PromotionFactory(name="Welcome", value=10))
    stock("MUG-1", "12.50", currency="EUR", units=10)
    zone = ShippingZone.objects.create(name="EU", countries=["DE"])
    method = ShippingMethod.objects.create(zone=zone, name="Standard", currency="EUR", price=Decimal("4.90"))
    guest = APIClient()
    cart = guest.post("/api/v1/carts/", {"currency": "EUR"}, format="json").json()
    token, url = {"HTTP_X_CART_TOKEN": cart["token"]}, f"/api/v1/carts/{cart['id']}/"
    etag = guest.post(f"{url}lines/", {"sku": "MUG-1", "quantity": 2}, format="json", HTTP_IF_MATCH='"1"',
                      **token).headers["ETag"]
    etag = guest.patch(url, {"shipping_address": BERLIN, "shipping_method_id": method.pk}, format="json",
                       HTTP_IF_MATCH=etag, **token).headers["ETag"]
    assert guest.post(f"{url}codes/", {"code": "WELCOME10"}, format="json", HTTP_IF_MATCH=etag,
                      **token).status_code == 200

    # When it is completed, shipped and one mug refunded
    order = guest.post(f"{url}complete/", {"payment_token": "tok_approved", "email": "erika@example.com"},
                       format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **token).json()
    assert action(staff_api, order["id"], "ship").status_code == 200
    assert action(staff_api, order["id"], "refund", {"lines": [{"sku": "MUG-1", "quantity": 1}]}).status_code == 200

    # Then every order event carries the breakdown and the frozen lines, valid against version 2
    # (25.00 - 2.50 + 19 % of 22.50 and of 4.90 shipping = 4.28 + 0.93)
    events = {event.event_type: event.data for event in OutboxEvent.objects.all()
              if event.event_type.startswith("orders.")}
    for event_type, data in events.items():
        validate_event_data(event_type, 2, data)
        assert (data["subtotal"], data["shipping_total"], data["discount_total"], data["tax_total"],
                data["total"], data["prices_include_tax"]) == ("25.00", "4.90", "2.50", "5.21", "32.61", False)
        assert data["voucher_codes"] == ["WELCOME10"]
        assert [(tax["key"], tax["rate"], tax["amount"]) for tax in data["tax_lines"]] == [
            ("MUG-1", "19", "4.28"), ("shipping", "19", "0.93")]
        assert [(line["voucher_code"], line["amount"]) for line in data["discount_lines"]] == [("WELCOME10", "2.50")]
    (line,) = events["orders.order_placed"]["lines"]
    assert (line["discount"], line["tax"], line["tax_rate"], line["total"]) == ("2.50", "4.28", "19", "26.78")
    assert events["orders.order_refunded"]["lines"] == [
        {"sku": "MUG-1", "quantity": 1, "amount": "13.39", "tax": "2.14", "discount": "1.25"}]
    # and the consumers apply them: the day's sales show the discount and the tax, the promotion its order
    outbox_relay(publisher=InProcessPublisher())
    assert list(RejectedEvent.objects.values_list("consumer", "event_type", "reason")) == []
    sales = DailySales.objects.get(currency="EUR")
    assert (sales.gross, sales.discount, sales.tax, sales.refunds) == (
        Decimal("32.61"), Decimal("2.50"), Decimal("5.21"), Decimal("13.39"))
    assert OrderDiscount.objects.get().amount == Decimal("2.50")
    assert Delivery.objects.filter(event_type="orders.order_placed", recipient="erika@example.com").exists()


def test_an_order_without_an_email_is_reported_and_notified_like_any_other(stock, staff_api, receiver_less_rules):
    _, (shipped, cancelled) = every_flow(stock, staff_api, WITHOUT)
    # When the relay hands the events to the consumers (the embedded default's path)
    outbox_relay(publisher=InProcessPublisher())
    # Then no consumer rejected any of them
    assert list(RejectedEvent.objects.values_list("consumer", "event_type", "reason")) == []
    # and reporting has both orders, the sale and the refund
    report = OrderReport.objects.get(order_id=shipped)
    assert (report.status, report.total, report.refunded_amount) == ("partially_refunded", Decimal("25.00"),
                                                                     Decimal("5.00"))
    assert OrderReport.objects.get(order_id=cancelled).status == "cancelled"
    assert OrderRefund.objects.get(order_id=shipped).amount == Decimal("5.00")
    sales = DailySales.objects.get(currency="USD")
    assert (sales.orders, sales.gross, sales.refunds) == (1, Decimal("25.00"), Decimal("5.00"))  # cancelled: no sale
    # and notifications: no customer email (there is no address), but staff hear of the failure
    assert not Delivery.objects.filter(channel=Channel.EMAIL, recipient="").exists()
    assert Delivery.objects.filter(event_type="payments.payment_failed", recipient="ops@example.com").exists()


@pytest.fixture
def receiver_less_rules(settings):
    settings.NOTIFICATIONS_STAFF_EMAILS = ["ops@example.com"]


@pytest.fixture
def strict_email_schemas(monkeypatch):
    """The order schemas as they were before the fix: email required with at least 3 characters."""
    real = schemas._validator

    def strict(event_type, version):
        schema = json.loads(json.dumps(schemas.event_schema(event_type, version)))
        if "email" in schema.get("properties", {}):
            schema["properties"]["email"]["minLength"] = 3
        return schemas.jsonschema.Draft202012Validator(schema)

    monkeypatch.setattr(schemas, "_validator", strict)
    return lambda: monkeypatch.setattr(schemas, "_validator", real)


def order_without_email_relayed(stock) -> dict:
    """An order by an account without an email, its events handed to the consumers in-process."""
    stock("MUG-1", "12.50", units=10)
    user = get_user_model().objects.create_user("noemail", "", "pw-customer-1")
    client = APIClient()
    client.force_authenticate(user)
    order = place(client, [("MUG-1", 2)]).json()
    outbox_relay(publisher=InProcessPublisher())
    return order


def test_a_rejected_event_is_counted_shown_to_staff_and_replayed_after_the_fix(stock, staff_api,
                                                                               strict_email_schemas):
    from prometheus_client import REGISTRY

    def rejected_count():
        return REGISTRY.get_sample_value("events_rejected_total",
                                         {"consumer": "reporting", "event_type": "orders.order_placed"}) or 0

    before = rejected_count()
    # Given consumers that reject orders without an email (the defect), and such an order
    order = order_without_email_relayed(stock)
    assert not OrderReport.objects.filter(order_id=order["id"]).exists()
    # Then each rejection is counted and kept with its reason
    assert rejected_count() == before + 1
    rejected = RejectedEvent.objects.get(consumer="reporting", event_type="orders.order_placed")
    assert "email" in rejected.reason and rejected.status == "rejected"
    assert RejectedEvent.objects.filter(consumer="notifications").exists()

    # and staff who may look see it in the admin with its reason
    viewer = get_user_model().objects.create_user("viewer", "viewer@example.com", "pw-viewer-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_rejectedevent"))
    browser = Client()
    browser.force_login(viewer)
    page = browser.get("/admin/common/rejectedevent/").content.decode()
    assert "orders.order_placed" in page and "breaks its schema" in page
    # but without the replay permission they are not offered the replay, and a forged one does nothing
    assert "Replay through the consumer" not in page
    browser.post("/admin/common/rejectedevent/", {"action": "replay", "_selected_action": [rejected.pk]})
    assert RejectedEvent.objects.get(pk=rejected.pk).status == "rejected"

    # When the fix is deployed and someone allowed to replays the rejected events
    strict_email_schemas()
    viewer.user_permissions.add(Permission.objects.get(codename="replay_rejectedevent"))
    browser = Client()
    browser.force_login(get_user_model().objects.get(pk=viewer.pk))
    response = browser.post("/admin/common/rejectedevent/", {
        "action": "replay", "_selected_action": list(RejectedEvent.objects.values_list("pk", flat=True))},
        follow=True)
    assert "applied" in response.content.decode()
    # Then the order is reported, once, and nothing is left rejected
    assert OrderReport.objects.get(order_id=order["id"]).total == Decimal("25.00")
    assert set(RejectedEvent.objects.values_list("status", flat=True)) == {"replayed"}


def test_events_rejected_before_rejections_were_recorded_are_reapplied_from_the_archive(stock, strict_email_schemas):
    # Given an order without an email whose events reporting rejected, with no record of it kept
    order = order_without_email_relayed(stock)
    RejectedEvent.objects.all().delete()
    assert not OrderReport.objects.filter(order_id=order["id"]).exists()
    # When, after the fix, an operator offers the archive since that day to reporting
    strict_email_schemas()
    since = OutboxEvent.objects.earliest("occurred_at").occurred_at.date().isoformat()
    out = StringIO()
    call_command("events_replay", "--from-archive", "--consumer", "reporting", "--since", since, stdout=out)
    # Then the order is reported; what reporting had applied (the payment event) is skipped
    assert OrderReport.objects.get(order_id=order["id"]).total == Decimal("25.00")
    assert "1 applied, 1 already_applied, 0 rejected_again" in out.getvalue()
    # and a second run changes nothing
    out = StringIO()
    call_command("events_replay", "--from-archive", "--consumer", "reporting", "--since", since, stdout=out)
    assert "0 applied, 2 already_applied" in out.getvalue()
