"""Consumer contracts of notifications for both versions of orders.order_placed: version 1
(orders before shipping, still in queues and in the archive) and version 2 (addresses, shipping
and the totals breakdown; a null customer for a guest). The consumer checks each envelope
against its published schema, then the confirmation email is rendered from it."""

import pytest

from apps.common.messaging.consumers import InvalidEvent, consumer_get, event_apply
from apps.notifications.models import Channel, Delivery
from tests.notifications.factories import EnvelopeFactory, OrderPlacedV2DataFactory

pytestmark = pytest.mark.django_db


def confirmation(envelope) -> dict:
    """The email notifications renders for this orders.order_placed envelope."""
    assert event_apply(consumer=consumer_get("notifications"), envelope=envelope) is True
    return Delivery.objects.get(channel=Channel.EMAIL).payload


def test_a_version_2_confirmation_shows_the_shipping_address_and_the_totals_breakdown():
    # Given a storefront order shipped to Berlin, as orders publishes it now
    envelope = EnvelopeFactory(version=2, data=OrderPlacedV2DataFactory(email="erika@example.com"))

    # When notifications renders its confirmation
    email = confirmation(envelope)

    # Then the text shows the breakdown, one figure a line, and where it ships
    text = email["text"]
    assert "Subtotal: 59.97 EUR\nShipping: 4.90 EUR (Standard)\nTotal:    64.87 EUR" in text  # no discount, no tax
    assert "Shipping to:\n  Erika Mustermann\n  Heidestrasse 17\n  10557 Berlin\n  DE\n" in text
    assert "Billing address" not in text  # the same as the shipping address
    # and so does the HTML part
    html = email["html"]
    assert "Shipping (Standard)</td><td align=\"right\">4.90 EUR" in html
    assert "Erika Mustermann<br>Heidestrasse 17<br>10557 Berlin<br>DE" in html


@pytest.mark.parametrize(("gross", "tax_row"), [(True, "Incl. tax: 9.58 EUR"), (False, "Tax:      9.58 EUR")])
def test_a_discounted_order_with_free_shipping_shows_its_discount_and_how_tax_is_counted(gross, tax_row):
    # Given an order whose voucher took 6.00 off and whose shipping was free
    data = OrderPlacedV2DataFactory(subtotal="59.97", shipping_total="0.00", discount_total="6.00",
                                    tax_total="9.58", total="53.97" if gross else "63.55", prices_include_tax=gross)

    text = confirmation(EnvelopeFactory(version=2, data=data))["text"]

    # Then the breakdown still shows shipping (free), the discount, and whether tax is included or added
    total = "53.97" if gross else "63.55"
    assert (f"Subtotal: 59.97 EUR\nShipping: 0.00 EUR (Standard)\nDiscount: -6.00 EUR\n{tax_row}\n"
            f"Total:    {total} EUR") in text


def test_a_version_2_confirmation_of_a_guest_order_billed_elsewhere_shows_both_addresses():
    data = OrderPlacedV2DataFactory(customer_id=None, email="guest@example.com", billing_address={
        "name": "Erika Mustermann", "company": "Muster GmbH", "line1": "Postfach 12", "city": "Hamburg",
        "postal_code": "20095", "country": "DE"})

    email = confirmation(EnvelopeFactory(version=2, data=data))

    assert Delivery.objects.get().recipient == "guest@example.com"
    assert "Billing address:\n  Erika Mustermann\n  Muster GmbH\n  Postfach 12\n  20095 Hamburg\n  DE" in email["text"]


def test_a_version_1_confirmation_still_shows_subtotal_and_total_and_no_shipping():
    # Given an order_placed as published before version 2
    envelope = EnvelopeFactory(data__number="ORD-000042")
    assert envelope["version"] == 1 and "shipping_total" not in envelope["data"]

    email = confirmation(envelope)

    assert email["subject"] == "Commerce: order ORD-000042 confirmed"
    assert "Subtotal: 59.97 EUR\nTotal:    59.97 EUR" in email["text"]
    assert "Shipping" not in email["text"] and "Shipping" not in email["html"]


def test_a_version_2_event_missing_its_breakdown_is_refused_before_anyone_is_emailed():
    data = OrderPlacedV2DataFactory()
    del data["shipping_total"]

    with pytest.raises(InvalidEvent, match="shipping_total"):
        event_apply(consumer=consumer_get("notifications"), envelope=EnvelopeFactory(version=2, data=data))
    assert not Delivery.objects.exists()
