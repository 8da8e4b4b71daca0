"""Refunds of orders that were discounted and taxed: a refund of some units of a line gives back
their price less their share of the discount, plus their tax; the order's breakdown stays
consistent after any sequence of partial refunds, and refunds never exceed what was paid, per
line and in total (an HTTP walk-through, then a hypothesis property at the order level)."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from apps.common.http.problems import ApplicationError
from apps.common.models import OutboxEvent
from apps.common.money import minor_unit
from apps.orders import api as orders_api
from apps.orders.models import Order, RefundRecord
from apps.orders.services.lifecycle import order_refund, order_ship
from apps.orders.types import LineRequest
from apps.payments import api as payments_api
from apps.pricing import api as pricing
from tests.catalog.factories import ProductFactory
from tests.checkout import conftest as checkout_fixtures
from tests.checkout.conftest import BERLIN, apply_code, cart_create, cart_url, token_header
from tests.orders.conftest import action
from tests.pricing.factories import PromotionFactory, VoucherFactory
from tests.pricing.helpers import DE_RATES, GERMANY, rule, totals

pytestmark = pytest.mark.django_db(databases="__all__")

# The storefront's fixtures: products, shipping methods, DE/FR/US-CA tax rates.
product, shipping, tax_rates = checkout_fixtures.product, checkout_fixtures.shipping, checkout_fixtures.tax_rates


def refund_lines(staff_api, order_id, **quantities):
    return action(staff_api, order_id, "refund", {"lines": [{"sku": sku, "quantity": quantity}
                                                            for sku, quantity in quantities.items()]})


def by_sku(order: dict) -> dict:
    return {line["sku"]: line for line in order["lines"]}


def test_refunds_by_line_give_back_each_units_price_less_its_discount_plus_its_tax(
        customer_client, staff_api, tax_rates, product, shipping):
    # Given an order to Berlin with 10 % off: a lamp (19.99) and three mugs (12.50), Economy
    # shipping (3.90), all at 19 %
    product("LAMP", price="19.99")
    product("MUG", price="12.50")
    VoucherFactory(code="WELCOME10", promotion=PromotionFactory(value=10))
    cart = cart_create(customer_client)
    cart.add("LAMP")
    cart.add("MUG", 3)
    cart.patch({"shipping_address": BERLIN, "shipping_method_id": shipping["subtotal"].pk})
    assert apply_code(cart, "WELCOME10").status_code == 200
    order = customer_client.post(cart_url(cart.id, "complete/"), {"payment_token": "tok_approved"}, format="json",
                                 HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **token_header(cart.token)).json()
    lines = by_sku(order)
    # 57.49 - 5.75 discount (2.00 on the lamp, 3.75 on the mugs) + 10.57 tax + 3.90 shipping
    assert (order["subtotal"], order["discount_total"], order["tax_total"], order["total"]) == (
        "57.49", "5.75", "10.57", "66.21")
    assert [(lines[sku]["discount_total"], lines[sku]["tax_total"], lines[sku]["total"]) for sku in ("LAMP", "MUG")] \
        == [("2.00", "3.42", "21.41"), ("3.75", "6.41", "40.16")]
    assert action(staff_api, order["id"], "ship").status_code == 200

    # When one mug is refunded
    first = refund_lines(staff_api, order["id"], MUG=1)

    # Then it gives back a third of what the mugs cost: (37.50 - 3.75 + 6.41) / 3 = 13.39
    assert first.status_code == 200, first.content
    assert (first.json()["status"], first.json()["refunded_amount"]) == ("partially_refunded", "13.39")
    mug = by_sku(first.json())["MUG"]
    assert (mug["refunded_quantity"], mug["refunded_amount"]) == (1, "13.39")
    refunded = OutboxEvent.objects.filter(event_type="orders.order_refunded").latest("occurred_at").data
    assert refunded["lines"] == [{"sku": "MUG", "quantity": 1, "amount": "13.39", "tax": "2.14", "discount": "1.25"}]
    assert payments_api.payment_for_order(order_id=uuid.UUID(order["id"])).amount_refunded == Decimal("13.39")

    # When the two other mugs and the lamp are refunded, each line gives back exactly what it cost
    second = refund_lines(staff_api, order["id"], MUG=2, LAMP=1).json()
    assert [(line["sku"], line["refunded_amount"], line["total"]) for line in second["lines"]] == [
        ("LAMP", "21.41", "21.41"), ("MUG", "40.16", "40.16")]
    assert second["refunded_amount"] == "61.57"
    # and no unit is left to refund: a further line refund is 422, nothing refunded
    assert refund_lines(staff_api, order["id"], MUG=1).json()["code"] == "refund_not_allowed"

    # When the shipping (4.64 with its tax) is refunded as an amount, the order is fully refunded
    last = action(staff_api, order["id"], "refund", {"amount": "4.64"}).json()
    assert (last["status"], last["refunded_amount"], last["total"]) == ("refunded", "66.21", "66.21")
    assert payments_api.payment_for_order(order_id=uuid.UUID(order["id"])).amount_refunded == Decimal("66.21")


def test_a_line_refund_larger_than_what_is_left_of_the_order_is_refused(customer_client, staff_api, product,
                                                                        shipping):
    product("MUG", price="12.50")
    cart = cart_create(customer_client)
    cart.add("MUG", 2)
    cart.patch({"shipping_address": BERLIN, "shipping_method_id": shipping["flat"].pk})
    order = customer_client.post(cart_url(cart.id, "complete/"), {"payment_token": "tok_approved"}, format="json",
                                 HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex).json()
    action(staff_api, order["id"], "ship")
    # an amount refund took all but 10.00 of the 29.90
    assert action(staff_api, order["id"], "refund", {"amount": "19.90"}).status_code == 200

    response = refund_lines(staff_api, order["id"], MUG=1)  # 12.50 > 10.00 left

    assert (response.status_code, response.json()["code"]) == (422, "refund_not_allowed")
    assert Order.objects.get().refunded_amount == Decimal("19.90")
    assert by_sku(customer_client.get(f"/api/v1/orders/{order['id']}/").json())["MUG"]["refunded_quantity"] == 0


# ---------------------------------------------------------------- the property, at the order level

CURRENCIES = ["EUR", "JPY", "KWD"]
CLASSES = ["standard", "reduced", "exempt"]


def money_units(currency, low, high):
    return st.integers(min_value=low, max_value=high).map(lambda units: Decimal(units) * minor_unit(currency))


@st.composite
def orders_and_refunds(draw):
    """A priced cart (lines of 1 to 5 units, automatic promotions, DE rates, either price mode)
    and a sequence of refunds: some units of a line, or an amount."""
    currency = draw(st.sampled_from(CURRENCIES))
    suffix = uuid.uuid4().hex[:8].upper()
    lines = []
    for index in range(draw(st.integers(min_value=1, max_value=4))):
        unit_price = draw(money_units(currency, 1, 20_000))
        quantity = draw(st.integers(min_value=1, max_value=5))
        lines.append((f"P{suffix}-{index}", unit_price, quantity, draw(st.sampled_from(CLASSES))))
    offers = []
    for promotion_id in range(1, draw(st.integers(min_value=0, max_value=2)) + 1):
        kind = draw(st.sampled_from([pricing.PromotionKind.PERCENTAGE, pricing.PromotionKind.FIXED_AMOUNT,
                                     pricing.PromotionKind.FREE_SHIPPING]))
        value = (Decimal(draw(st.integers(min_value=1, max_value=90)))
                 if kind is pricing.PromotionKind.PERCENTAGE else draw(money_units(currency, 1, 5_000)))
        scope = draw(st.sampled_from([pricing.PromotionScope.ORDER, pricing.PromotionScope.PRODUCTS]))
        offers.append(pricing.Offer(rule=rule(promotion_id, kind=kind, value=value, scope=scope,
                                              currency=currency if kind is pricing.PromotionKind.FIXED_AMOUNT else "",
                                              combinable=draw(st.booleans()), skus=frozenset({lines[0][0]}))))
    mode = draw(st.sampled_from(list(pricing.PriceMode)))
    priced = totals([pricing.PricingLine(key=sku, sku=sku, category=None, tax_class=tax_class,
                                         amount=unit_price * quantity)
                     for sku, unit_price, quantity, tax_class in lines],
                    mode=mode, shipping=str(draw(money_units(currency, 0, 2_000))), offers=offers, table=DE_RATES,
                    currency=currency, destination=GERMANY)
    line_step = st.tuples(st.just("line"), st.integers(min_value=0, max_value=len(lines) - 1),
                          st.integers(min_value=1, max_value=3))
    amount_step = st.tuples(st.just("amount"), st.integers(min_value=1, max_value=100))  # percent of what is left
    steps = draw(st.lists(st.one_of(line_step, line_step, line_step, amount_step), min_size=1, max_size=10))
    return lines, priced, steps


def order_placed(lines, priced: pricing.PricedCart) -> Order:
    """The priced cart placed through the saga, as completion hands it over, and shipped."""
    for sku, unit_price, _quantity, tax_class in lines:
        ProductFactory(sku=sku, price=unit_price, currency=priced.currency, units=100, tax_class=tax_class)
    figures = {line.key: line for line in priced.lines}
    snapshot = orders_api.CartSnapshot(
        cart_id=uuid.uuid4(), currency=priced.currency,
        lines=tuple(orders_api.SnapshotLine(
            sku=sku, name=sku, unit_price=unit_price, quantity=quantity, tax_class=figures[sku].tax_class,
            tax_rate=figures[sku].tax_rate, discount=figures[sku].discount, tax=figures[sku].tax,
            total=figures[sku].gross) for sku, unit_price, quantity, _class in lines),
        shipping_address=BERLIN, billing_address=BERLIN, shipping_method_id=None, shipping_method="Standard",
        shipping_total=priced.shipping, discount_total=priced.discount, tax_total=priced.tax, total=priced.total,
        prices_include_tax=priced.mode is pricing.PriceMode.GROSS, shipping_discount=priced.shipping_line.discount,
        shipping_tax=priced.shipping_line.tax, tax_lines=priced.tax_lines, discount_lines=priced.discount_lines)
    placed = orders_api.cart_order_place(customer_id=None, snapshot=snapshot, payment_token="tok_approved",
                                         email="buyer@example.com", idempotency_key=uuid.uuid4().hex)
    order = Order.objects.get(pk=placed.order_id)
    return order_ship(order=order, actor=None)


def assert_consistent(order: Order) -> None:
    order.refresh_from_db()
    currency = order.currency
    lines = list(order.lines.all())
    records = sum((record.amount for record in RefundRecord.objects.filter(order=order)), Decimal(0))
    payment = payments_api.payment_for_order(order_id=order.id)
    # refunds never exceed what was paid, per line and in total, and every record agrees
    assert 0 <= order.refunded_amount <= order.total
    assert order.refunded_amount == records == payment.amount_refunded
    for line in lines:
        assert 0 <= line.refunded_quantity <= line.quantity
        assert 0 <= line.refunded_amount <= line.total
        assert 0 <= line.refunded_tax <= line.tax_total and 0 <= line.refunded_discount <= line.discount_total
        for figure in (line.refunded_amount, line.refunded_tax, line.refunded_discount):
            assert figure == figure.quantize(minor_unit(currency))
        if line.refunded_quantity == line.quantity:  # a line refunded unit by unit gives back exactly its figures
            assert (line.refunded_amount, line.refunded_tax, line.refunded_discount) == (
                line.total, line.tax_total, line.discount_total)
    assert sum((line.refunded_amount for line in lines), Decimal(0)) <= order.refunded_amount
    assert order.status == ("refunded" if order.refunded_amount == order.total and order.refunded_amount else
                            "partially_refunded" if order.refunded_amount else "shipped")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(case=orders_and_refunds())
def test_any_sequence_of_partial_refunds_keeps_the_breakdown_consistent_and_within_what_was_paid(case):
    lines, priced, steps = case
    assume(priced.total > 0)  # an order is placed through its payment
    staff = get_user_model().objects.filter(username="refunder").first() or get_user_model().objects.create(
        username="refunder", is_staff=True)
    order = order_placed(lines, priced)
    assert order.total == priced.total and order.tax_total == priced.tax and order.discount_total == priced.discount

    for step in steps:
        left = order.total - order.refunded_amount
        if step[0] == "line":
            sku = lines[step[1]][0]
            request = {"lines": [LineRequest(sku=sku, quantity=step[2])]}
        else:
            request = {"amount": (left * step[1] / 100).quantize(minor_unit(order.currency))}
        try:
            order = order_refund(order=order, actor=staff, idempotency_key=uuid.uuid4().hex, **request)
        except ApplicationError as error:  # refused (more units than left, more than remains): nothing changes
            assert error.code in ("refund_not_allowed", "order_transition_not_allowed"), error
        assert_consistent(order)
