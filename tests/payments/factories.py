import uuid
from decimal import Decimal

import factory
from django.utils import timezone

from apps.payments.models import Payment, PaymentTransaction


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment as the database holds it (no provider-side state: for reads and the admin)."""

    class Meta:
        model = Payment

    order_id = factory.LazyFunction(uuid.uuid4)
    method = "card"
    provider = "sandbox"
    provider_reference = factory.Sequence(lambda n: f"sbx_auth_{n:08d}")
    currency = "EUR"
    amount = Decimal("100.00")
    amount_authorized = Decimal("100.00")
    status = Payment.Status.AUTHORIZED
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyAttribute(lambda payment: payment.created_at)

    class Params:
        captured = factory.Trait(status=Payment.Status.CAPTURED, amount_captured=Decimal("100.00"))


class PaymentTransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentTransaction

    payment = factory.SubFactory(PaymentFactory)
    operation = PaymentTransaction.Operation.AUTHORIZE
    idempotency_key = factory.Sequence(lambda n: f"key-{n}")
    provider_key = factory.LazyAttribute(lambda tx: f"{tx.operation}:{tx.idempotency_key}")
    request_fingerprint = "0" * 64
    amount = Decimal("100.00")
    outcome = PaymentTransaction.Outcome.SUCCEEDED
    created_at = factory.LazyFunction(timezone.now)
