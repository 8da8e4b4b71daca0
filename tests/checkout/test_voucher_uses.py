"""A voucher's uses through completion over HTTP: taken before the payment, kept when the order is
placed, given back exactly once when the payment fails, when the placement is abandoned and
recovered, and when the order is cancelled before shipment; and its limit holds when fifty
completions race for ten uses."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from apps.catalog import api as catalog_api
from apps.checkout.completion import carts_completion_recover
from apps.checkout.models import Cart as CartRow
from apps.orders.models import Order
from apps.orders.services.recovery import orders_recover_stuck
from apps.payments import api as payments_api
from apps.pricing.models import Voucher, VoucherUse
from tests.checkout.conftest import BERLIN, apply_code, cart_create, cart_url, stock_set, token_header
from tests.checkout.test_concurrency import race
from tests.conftest import client_of
from tests.orders.conftest import action, available, held_for
from tests.pricing.factories import PromotionFactory, VoucherFactory

pytestmark = pytest.mark.django_db(databases="__all__")

LATER = timedelta(hours=1)


class Crash(Exception):
    """The process dies here."""


@pytest.fixture
def lamp(product):
    return product("LAMP", price="19.99", units=100)


def voucher(code="WELCOME10", **limits):
    return VoucherFactory(code=code, promotion=PromotionFactory(name="Welcome", value=10), **limits)


def ready(client, shipping, code="WELCOME10"):
    cart = cart_create(client)
    assert cart.add("LAMP").status_code == 200
    assert cart.patch({"shipping_address": BERLIN, "shipping_method_id": shipping["flat"].pk}).status_code == 200
    assert apply_code(cart, code).status_code == 200, cart.last.content
    return cart


def complete(cart, *, token="tok_approved", key=None):
    return cart.client.post(cart_url(cart.id, "complete/"), {"payment_token": token, "email": "erika@example.com"},
                            format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex, **token_header(cart.token))


def uses(code="WELCOME10") -> tuple[int, list[str]]:
    """The voucher's uses held now, and the status of each use ever taken."""
    return (Voucher.objects.get(code=code).used,
            sorted(VoucherUse.objects.filter(voucher__code=code).values_list("status", flat=True)))


def test_a_declined_payment_gives_the_use_back_and_a_new_card_takes_it_again(api_client, lamp, shipping):
    voucher(usage_limit=1)
    cart = ready(api_client, shipping)

    declined = complete(cart, token="tok_declined")

    assert declined.status_code == 402
    assert uses() == (0, ["released"])
    body = cart.body()
    assert (body["status"], body["last_failure"]["code"], body["voucher_codes"]) == (
        "open", "payment_declined", ["WELCOME10"])
    # the one use left is the customer's again: a new card completes with the discount
    placed = complete(cart)
    assert placed.status_code == 201, placed.content
    assert placed.json()["discount_total"] == "2.00"
    assert uses() == (1, ["released", "used"])


def test_a_processor_that_cannot_answer_gives_the_use_back(api_client, lamp, shipping):
    voucher(usage_limit=1)
    cart = ready(api_client, shipping)

    response = complete(cart, token="tok_processing_error")

    assert response.status_code == 503
    assert uses() == (0, ["released"])


def test_cancelling_before_shipment_gives_the_use_back_once(customer_client, staff_client, lamp, shipping):
    voucher(usage_limit=5)
    order = complete(ready(customer_client, shipping)).json()
    assert uses() == (1, ["used"])

    cancelled = action(customer_client, order["id"], "cancel", {"reason": "changed my mind"})
    again = action(staff_client, order["id"], "cancel")

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert uses() == (0, ["released"])


def test_a_shipped_order_keeps_its_use_even_when_refunded(customer_client, staff_client, lamp, shipping):
    voucher(usage_limit=5)
    order = complete(ready(customer_client, shipping)).json()
    assert action(staff_client, order["id"], "ship").status_code == 200

    refunded = action(staff_client, order["id"], "refund", {"lines": [{"sku": "LAMP", "quantity": 1}]})

    assert refunded.status_code == 200
    assert uses() == (1, ["used"])


def test_a_code_used_up_before_completion_is_a_422_with_nothing_held_and_the_cart_says_why(
        api_client, lamp, shipping):
    # Given a code with one use left, applied to a cart
    voucher(usage_limit=1)
    cart = ready(api_client, shipping)
    # When another customer's order takes that use first
    other = ready(APIClient(), shipping)
    assert complete(other).status_code == 201

    response = complete(cart)

    assert (response.status_code, response.json()["code"], response.json()["voucher_code"]) == (
        422, "voucher_exhausted", "WELCOME10")
    body = cart.body()
    assert (body["status"], body["last_failure"]["code"]) == ("open", "voucher_exhausted")
    assert Order.objects.filter(cart_id=cart.id).count() == 0 and available("LAMP") == 99
    assert uses() == (1, ["used"])


def test_a_guest_using_a_once_per_customer_code_again_with_the_same_email_is_refused_at_completion(
        lamp, shipping):
    # Given WELCOME10, once per customer, used by a guest's first order
    voucher(usage_limit_per_customer=1)
    assert complete(ready(APIClient(), shipping)).status_code == 201
    # When the same person, as a guest again (the cart does not know them before the email),
    # applies it to a new cart and completes with the same email
    cart = ready(APIClient(), shipping)

    response = complete(cart)

    # Then the order is refused before any payment, nothing held, and the cart says why
    assert (response.status_code, response.json()["code"]) == (422, "voucher_customer_limit")
    assert Order.objects.get(cart_id=cart.id).status == "rejected" and available("LAMP") == 99
    assert cart.body()["last_failure"]["code"] == "voucher_customer_limit"
    assert uses() == (1, ["used"])


def test_stock_gone_after_the_use_was_taken_rejects_the_order_and_gives_the_use_back(
        api_client, lamp, shipping, monkeypatch):
    # Given a cart whose lamps another order takes after its code's use was taken
    voucher(usage_limit=1)
    cart = ready(api_client, shipping)
    real_reserve = catalog_api.stock_reserve

    def reserve_after_a_rival(**kwargs):
        stock_set("LAMP", 0)
        return real_reserve(**kwargs)

    monkeypatch.setattr(catalog_api, "stock_reserve", reserve_after_a_rival)

    response = complete(cart)

    assert (response.status_code, response.json()["code"]) == (409, "out_of_stock")
    assert Order.objects.get().status == "rejected"
    assert uses() == (0, ["released"])


def test_a_placement_abandoned_after_taking_the_use_gives_it_back_when_recovered(
        customer_client, lamp, shipping, monkeypatch):
    # Given a completion whose process died as it was about to authorize the payment
    voucher(usage_limit=1)
    cart = ready(customer_client, shipping)

    def dies(**kwargs):
        raise Crash("payment_authorize")

    monkeypatch.setattr(payments_api, "payment_authorize", dies)
    customer_client.raise_request_exception = False
    assert complete(cart, key="crashing").status_code == 500
    monkeypatch.undo()
    order = Order.objects.get()
    assert (order.status, order.saga_step) == ("pending", "authorizing")
    assert uses() == (1, ["reserved"]) and held_for(order.id) == 1

    # When the order's recovery gives up on it (no payment was ever made), then the cart's
    Order.objects.update(updated_at=timezone.now() - LATER)
    assert orders_recover_stuck() == 1
    carts_completion_recover(now=timezone.now() + LATER)

    # Then the use and the stock are back, once, and the cart may complete again
    order.refresh_from_db()
    assert order.status == "payment_failed" and held_for(order.id) == 0
    assert uses() == (0, ["released"])
    assert orders_recover_stuck() == 0 and uses() == (0, ["released"])
    assert CartRow.objects.get(pk=cart.id).status == "open"
    assert complete(cart).status_code == 201
    assert uses() == (1, ["released", "used"])


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_fifty_completions_racing_for_ten_uses_place_exactly_ten_discounted_orders(lamp, shipping):
    # Given fifty customers, each with a cart holding the code, which has ten uses left
    voucher(usage_limit=10)
    User = get_user_model()
    carts = [ready(client_of(User.objects.create(username=f"racer{i}", email=f"racer{i}@example.com")), shipping)
             for i in range(50)]

    # When all fifty complete at once
    responses = race(50, lambda i: complete(carts[i]))

    # Then exactly ten orders are placed with the discount, and the forty others get a clear 422
    placed = [response for response in responses if response.status_code == 201]
    refused = [response for response in responses if response.status_code != 201]
    assert len(placed) == 10
    assert {(response.status_code, response.json()["code"]) for response in refused} == {(422, "voucher_exhausted")}
    assert all(response.json()["discount_total"] == "2.00" for response in placed)
    assert uses()[0] == 10
    assert Voucher.objects.get(code="WELCOME10").uses.filter(status="used").count() == 10
    # and nothing is held for the forty: only the ten orders' lamps left the shelf
    assert available("LAMP") == 90
    assert Order.objects.filter(status="confirmed").count() == 10
    # and each refused cart is open again, saying why, its code still applied
    for cart, response in zip(carts, responses, strict=True):
        row = CartRow.objects.get(pk=cart.id)
        if response.status_code == 201:
            assert (row.status, str(row.order_id)) == ("closed", response.json()["id"])
        else:
            assert (row.status, row.last_failure["code"], row.voucher_codes) == (
                "open", "voucher_exhausted", ["WELCOME10"])
