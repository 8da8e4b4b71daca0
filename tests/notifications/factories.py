import dataclasses
import datetime as dt
import uuid

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.common.messaging.events import DomainEvent
from apps.common.models import OutboxEvent
from apps.notifications.models import Channel, Delivery, WebhookEndpoint
from apps.notifications.signing import secret_generate


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"owner{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")


class OrderEventDataFactory(factory.DictFactory):
    """The data every orders.* event carries (schemas/events/orders.*.v1.json)."""

    order_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    number = factory.Sequence(lambda n: f"ORD-{n:06d}")
    customer_id = factory.Sequence(lambda n: n + 1)
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    phone = ""
    currency = "EUR"
    total = "59.97"
    status = "confirmed"


class OrderPlacedDataFactory(OrderEventDataFactory):
    subtotal = "59.97"
    payment_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    lines = factory.LazyFunction(lambda: [
        {"sku": "MUG-BLUE", "name": "Blue mug", "quantity": 3, "unit_price": "19.99", "line_total": "59.97"},
    ])


BERLIN = {"name": "Erika Mustermann", "company": "", "line1": "Heidestrasse 17", "line2": "", "city": "Berlin",
          "region": "", "postal_code": "10557", "country": "DE", "phone": ""}


class OrderPlacedV2DataFactory(OrderPlacedDataFactory):
    """schemas/events/orders.order_placed.v2.json: a storefront order shipped to Berlin."""

    subtotal = "59.97"
    shipping_total = "4.90"
    discount_total = "0.00"
    tax_total = "0.00"
    total = "64.87"
    shipping_method = "Standard"
    shipping_method_id = 3
    shipping_address = factory.LazyFunction(lambda: dict(BERLIN))
    billing_address = factory.LazyFunction(lambda: dict(BERLIN))


class OrderShippedDataFactory(OrderEventDataFactory):
    status = "shipped"
    phone = "+49 151 2345 6789"


class OrderCancelledDataFactory(OrderEventDataFactory):
    status = "cancelled"
    reason = "Customer changed their mind"


class OrderRefundedDataFactory(OrderEventDataFactory):
    status = "partially_refunded"
    amount = "19.99"
    refunded_total = "19.99"


class PaymentFailedDataFactory(factory.DictFactory):
    """schemas/events/payments.payment_failed.v1.json"""

    payment_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    order_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    transaction_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    amount = "120.50"
    currency = "EUR"
    status = "failed"
    amount_authorized = "0.00"
    amount_captured = "0.00"
    amount_refunded = "0.00"
    method = "card"
    provider = "fake"
    provider_reference = ""
    decline_code = "insufficient_funds"
    reason = "The card was declined."


class EnvelopeFactory(factory.DictFactory):
    """An event as the relay publishes it (OutboxEvent.envelope())."""

    id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    type = "orders.order_placed"
    version = 1
    occurred_at = factory.LazyFunction(lambda: timezone.now().isoformat())
    aggregate_id = factory.LazyAttribute(lambda envelope: envelope.data.get("order_id", ""))
    data = factory.SubFactory(OrderPlacedDataFactory)
    traceparent = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordedEvent(DomainEvent):
    """Any event a producer records, for driving the real outbox -> relay -> consumer path."""

    event_type = "orders.order_placed"
    payload: dict

    def aggregate_id(self) -> str:
        return str(self.payload.get("order_id", ""))

    def data(self) -> dict:
        return self.payload


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEvent

    event_type = "orders.order_placed"
    aggregate_id = factory.LazyAttribute(lambda row: row.data.get("order_id", ""))
    occurred_at = factory.LazyFunction(timezone.now)
    data = factory.LazyFunction(OrderPlacedDataFactory)


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """Written straight to the table: tests that need a loopback receiver register it here (the
    SSRF guard's registration check has its own tests)."""

    class Meta:
        model = WebhookEndpoint

    url = "https://hooks.example.com/commerce"
    event_types = factory.LazyFunction(lambda: ["orders.order_placed"])
    owner = factory.SubFactory(UserFactory)
    secret = factory.LazyFunction(secret_generate)


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    event_id = factory.LazyFunction(uuid.uuid4)
    event_type = "orders.order_placed"
    channel = Channel.EMAIL
    recipient = factory.Sequence(lambda n: f"someone{n}@example.com")
    payload = factory.LazyFunction(lambda: {"subject": "Hello", "text": "Hello\n", "html": "<p>Hello</p>"})
    next_attempt_at = factory.LazyFunction(timezone.now)

    class Params:
        dead = factory.Trait(status=Delivery.Status.DEAD, attempts=3,
                             dead_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=5)),
                             last_error="HTTP 500")
