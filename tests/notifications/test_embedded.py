"""The embedded default (`make run`): no broker, tasks in-process, console email backend."""

import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings

from apps.common.messaging.events import event_record
from apps.common.models import OutboxEvent
from apps.notifications.models import Delivery
from apps.orders.events import OrderLineData, OrderPlaced
from config.celery_app import app

# An order placed server to server: no addresses, no shipping, the total is the subtotal.
NOTHING_SHIPPED = {"subtotal": Decimal("39.98"), "shipping_total": Decimal(0), "discount_total": Decimal(0),
                   "tax_total": Decimal(0), "shipping_method": "", "shipping_method_id": None,
                   "shipping_address": None, "billing_address": None}


# Every registered consumer gets the event in-process, reporting (on its own alias) included.
@pytest.mark.django_db(transaction=True, databases="__all__")
@override_settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
def test_placing_an_order_without_any_server_prints_its_confirmation_email(capsys):
    # Given the embedded default: tasks run in-process and email goes to the console
    assert app.conf.task_always_eager
    order_id = uuid.uuid4()
    placed = OrderPlaced(
        order_id=order_id, number="ORD-000123", customer_id=7, email="ada@example.com", phone="",
        currency="EUR", total=Decimal("39.98"), status="confirmed", **NOTHING_SHIPPED,
        lines=(OrderLineData(sku="TEA-GREEN", name="Green tea", quantity=2, unit_price=Decimal("19.99"),
                             line_total=Decimal("39.98")),),
        payment_id=uuid.uuid4(),
    )
    # When orders records orders.order_placed in the transaction that confirms the order
    with transaction.atomic():
        event_record(placed)
    # Then, once committed, the confirmation email shows on the console
    printed = capsys.readouterr().out
    assert "Subject: Commerce: order ORD-000123 confirmed" in printed
    assert "To: ada@example.com" in printed
    assert "2 x Green tea (TEA-GREEN)  39.98 EUR" in printed
    # and the event is archived as published, its delivery done
    assert OutboxEvent.objects.get(aggregate_id=str(order_id)).status == OutboxEvent.Status.PUBLISHED
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_an_event_that_rolls_back_notifies_nobody(mailoutbox):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        event_record(OrderPlaced(
            order_id=uuid.uuid4(), number="ORD-9", customer_id=1, email="x@example.com", phone="", currency="EUR",
            total=Decimal("1.00"), status="confirmed", **{**NOTHING_SHIPPED, "subtotal": Decimal("1.00")},
            payment_id=None,
            lines=(OrderLineData(sku="A", name="A", quantity=1, unit_price=Decimal("1.00"),
                                 line_total=Decimal("1.00")),)))
        1 / 0  # noqa: B018 - the order's transaction fails after the event was recorded
    assert mailoutbox == []
    assert not Delivery.objects.exists()
