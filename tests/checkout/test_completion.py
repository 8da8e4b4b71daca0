"""Completion over HTTP: a storefront's cart becomes exactly one order through the placement
saga, with its addresses, shipping and totals breakdown; or stays open saying why."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.catalog import api as catalog_api
from apps.checkout.completion import CompletionRecovery, cart_completion_recover, carts_completion_recover
from apps.checkout.models import Cart as CartRow
from apps.checkout.tasks import carts_completion_recover_task
from apps.common.models import IdempotencyKey
from apps.orders import api as orders_api
from apps.orders.models import Order
from apps.orders.services.recovery import orders_recover_stuck
from apps.payments import api as payments_api
from tests.checkout.conftest import BERLIN, PARIS, cart_create, cart_url, stock_set, token_header
from tests.checkout.test_concurrency import race
from tests.conftest import client_of
from tests.orders.conftest import DECLINED, available, held_for, payment_status

pytestmark = pytest.mark.django_db(databases="__all__")

APPROVED = "tok_approved"
LATER = timedelta(hours=1)  # past every "stuck" threshold


class Crash(Exception):
    """The process dies here (nothing after this point runs)."""


@pytest.fixture
def mug(product):
    return product("MUG", price="12.50", units=10)


def ready_cart(client, shipping, *, quantity=2, **addresses):
    """A cart of `quantity` mugs (12.50 each) to Berlin by Standard shipping (4.90)."""
    cart = cart_create(client)
    assert cart.add("MUG", quantity).status_code == 200
    body = {"shipping_address": BERLIN, "shipping_method_id": shipping["flat"].pk, **addresses}
    assert cart.patch(body).status_code == 200, cart.last.content
    return cart


def complete(cart, *, key=None, token=APPROVED, etag=None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key or uuid.uuid4().hex, **token_header(cart.token)}
    if etag:
        headers["HTTP_IF_MATCH"] = etag
    return cart.client.post(cart_url(cart.id, "complete/"), {"payment_token": token, **body}, format="json",
                            **headers)


def cart_row(cart) -> CartRow:
    return CartRow.objects.get(pk=cart.id)


# ---------------------------------------------------------------- the happy path


def test_a_customer_completes_a_cart_into_an_order_with_addresses_shipping_and_its_breakdown(
        customer_client, customer, mug, shipping):
    # Given a cart of two mugs to Berlin, billed to Paris, shipped Standard
    cart = ready_cart(customer_client, shipping, billing_address=PARIS)

    # When the customer completes it
    response = complete(cart)

    # Then the order is placed from the cart: its lines, both addresses, the shipping and the breakdown
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "confirmed" and order["email"] == customer.email
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in order["lines"]] == [("MUG", 2, "12.50")]
    assert (order["subtotal"], order["shipping_total"], order["discount_total"], order["tax_total"],
            order["total"]) == ("25.00", "4.90", "0.00", "0.00", "29.90")
    assert (order["shipping_method"], order["shipping_method_id"]) == ("Standard", shipping["flat"].pk)
    assert order["shipping_address"]["line1"] == "Heidestrasse 17"
    assert order["billing_address"]["city"] == "Paris"
    assert order["currency"] == "EUR" and order["cart_id"] == cart.id
    assert response.headers["Location"] == f"/api/v1/orders/{order['id']}/"
    # and a later GET of the order answers the same
    assert customer_client.get(response.headers["Location"]).json() == order
    # and the stock is held for it, the payment authorized
    assert held_for(order["id"]) == 2 and available("MUG") == 8
    assert payment_status(order["id"]) == "authorized"
    # and the cart is closed with its order, and cannot change any more
    body = cart.body()
    assert (body["status"], body["closed_reason"], body["order_id"], body["last_failure"]) == (
        "closed", "completed", order["id"], None)
    assert cart.add("MUG").json()["code"] == "cart_closed"
    # and the customer's next cart in euros is a new, empty one
    assert cart_create(customer_client).body()["lines"] == []


def test_the_same_idempotency_key_twice_answers_the_same_order(customer_client, mug, shipping):
    cart = ready_cart(customer_client, shipping)

    first = complete(cart, key="checkout-1")
    again = complete(cart, key="checkout-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1 and available("MUG") == 8
    # while another key on the completed cart is a clear 409
    other = complete(cart, key="checkout-2")
    assert (other.status_code, other.json()["code"], other.json()["order_id"]) == (409, "cart_closed",
                                                                                   first.json()["id"])


def test_the_same_key_answers_the_same_order_even_when_its_stored_answer_is_gone(customer_client, mug, shipping):
    cart = ready_cart(customer_client, shipping)
    first = complete(cart, key="checkout-1").json()
    IdempotencyKey.objects.all().delete()  # past its retention, or a guest calling from another address

    again = complete(cart, key="checkout-1")

    assert again.status_code == 201 and again.json()["id"] == first["id"]
    assert Order.objects.count() == 1


def test_a_guest_completes_with_an_email_and_the_cart_token(api_client, mug, shipping):
    # Given a guest's cart with no billing address (billing is then the shipping address)
    cart = ready_cart(api_client, shipping)

    # When they complete it without an email, then without the token, then properly
    missing = complete(cart)
    assert (missing.status_code, missing.json()["code"], missing.json()["missing"]) == (
        422, "cart_incomplete", ["email"])
    stranger = APIClient().post(cart_url(cart.id, "complete/"), {"payment_token": APPROVED, "email": "x@example.com"},
                                format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert stranger.status_code == 404
    response = complete(cart, email="erika@example.com")

    # Then the guest order is theirs by email, billed to the shipping address
    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=response.json()["id"])
    assert (order.customer_id, order.email, order.cart_id) == (None, "erika@example.com", uuid.UUID(cart.id))
    assert order.billing_address == order.shipping_address and order.shipping_address["city"] == "Berlin"
    assert cart.body()["status"] == "closed"


def test_what_a_cart_lacks_is_named_and_nothing_is_ordered(customer_client, mug, shipping):
    cart = cart_create(customer_client)
    response = complete(cart)
    assert (response.status_code, response.json()["code"]) == (422, "cart_incomplete")
    assert response.json()["missing"] == ["lines", "shipping_address", "shipping_method"]
    assert cart.add("MUG").status_code == 200
    assert cart.patch({"shipping_address": BERLIN}).status_code == 200
    assert complete(cart).json()["missing"] == ["shipping_method"]
    assert Order.objects.count() == 0 and cart.body()["status"] == "open"


def test_a_completion_needs_an_idempotency_key(customer_client, mug, shipping):
    cart = ready_cart(customer_client, shipping)
    response = customer_client.post(cart_url(cart.id, "complete/"), {"payment_token": APPROVED}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_missing")
    assert Order.objects.count() == 0


def test_a_completion_with_the_etag_of_an_older_cart_is_412(customer_client, mug, shipping):
    cart = ready_cart(customer_client, shipping)
    seen = cart.etag
    assert cart.change("MUG", 3).status_code == 200  # another tab changed the cart

    response = complete(cart, etag=seen)

    assert response.status_code == 412
    assert Order.objects.count() == 0 and cart.body()["status"] == "open"


# ---------------------------------------------------------------- failures leave the cart open


def test_stock_short_at_completion_is_409_naming_the_skus_with_nothing_held(customer_client, product, mug, shipping):
    product("LAMP", price="30.00", units=5)
    cart = ready_cart(customer_client, shipping)
    assert cart.add("LAMP", 3).status_code == 200
    stock_set("LAMP", 1)  # sold elsewhere meanwhile

    response = complete(cart)

    assert (response.status_code, response.json()["code"], response.json()["skus"]) == (409, "out_of_stock",
                                                                                       ["LAMP"])
    assert Order.objects.count() == 0
    assert (available("MUG"), available("LAMP")) == (10, 1)
    body = cart.body()
    assert body["status"] == "open"
    assert (body["last_failure"]["code"], body["last_failure"]["skus"]) == ("out_of_stock", ["LAMP"])


def test_stock_taken_between_the_check_and_the_reservation_rejects_the_order_and_holds_nothing(
        customer_client, mug, shipping, monkeypatch):
    # Given a cart whose mugs another order takes after the cart was checked (the catalog read
    # before the reservation still says there are enough)
    cart = ready_cart(customer_client, shipping)
    real_reserve = catalog_api.stock_reserve

    def reserve_after_a_rival(**kwargs):
        stock_set("MUG", 1)
        return real_reserve(**kwargs)

    monkeypatch.setattr(catalog_api, "stock_reserve", reserve_after_a_rival)

    response = complete(cart)

    assert (response.status_code, response.json()["code"], response.json()["skus"]) == (409, "out_of_stock", ["MUG"])
    rejected = Order.objects.get()
    assert rejected.status == "rejected" and held_for(rejected.id) == 0 and available("MUG") == 1
    assert payment_status(rejected.id) is None
    body = cart.body()
    assert (body["status"], body["last_failure"]["code"]) == ("open", "out_of_stock")
    # and once restocked, the same cart completes into its one order
    monkeypatch.undo()
    stock_set("MUG", 10)
    assert complete(cart).status_code == 201
    assert Order.objects.filter(cart_id=cart.id, status="confirmed").count() == 1


def test_a_declined_payment_leaves_the_cart_open_with_the_reason_and_a_new_card_completes_it(
        customer_client, mug, shipping):
    cart = ready_cart(customer_client, shipping)

    declined = complete(cart, token=DECLINED)

    assert (declined.status_code, declined.json()["code"]) == (402, "payment_declined")
    failed = Order.objects.get()
    assert failed.status == "payment_failed" and held_for(failed.id) == 0 and available("MUG") == 10
    body = cart.body()
    assert body["status"] == "open" and body["order_id"] is None
    assert (body["last_failure"]["code"], body["last_failure"]["order_id"]) == ("payment_declined", str(failed.id))
    # When the customer tries another card
    response = complete(cart)
    # Then the cart becomes its one confirmed order
    assert response.status_code == 201
    assert cart.body()["order_id"] == response.json()["id"] != str(failed.id)
    assert available("MUG") == 8


def test_a_payment_processor_that_cannot_answer_leaves_the_cart_open_with_nothing_held(customer_client, mug,
                                                                                       shipping):
    cart = ready_cart(customer_client, shipping)

    response = complete(cart, token="tok_processing_error")

    assert (response.status_code, response.json()["code"]) == (503, "payment_provider_unavailable")
    assert "Retry-After" in response.headers
    assert available("MUG") == 10 and Order.objects.get().status == "payment_failed"
    body = cart.body()
    assert (body["status"], body["last_failure"]["code"]) == ("open", "payment_provider_unavailable")


# ---------------------------------------------------------------- races


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_two_completions_at_once_make_one_order_and_a_clear_409(customer, mug, shipping):
    cart = ready_cart(client_of(customer), shipping)

    responses = race(2, lambda i: complete(cart, key=f"tab-{i}"))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 409]
    loser = next(response for response in responses if response.status_code == 409).json()
    assert loser["code"] in ("cart_completing", "cart_closed")
    assert Order.objects.count() == 1 and available("MUG") == 8
    assert cart_row(cart).order_id == Order.objects.get().id


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_guest_completing_twice_at_once_gets_one_order(mug, shipping):
    cart = ready_cart(APIClient(), shipping)

    responses = race(4, lambda i: complete(cart, key=f"tab-{i}", email="erika@example.com"))

    assert sorted(response.status_code for response in responses) == [201, 409, 409, 409]
    assert Order.objects.filter(cart_id=cart.id).count() == 1 and available("MUG") == 8


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_completion_racing_an_edit_of_the_same_cart_one_wins_and_the_order_is_the_cart_it_saw(
        customer, product, mug, shipping):
    product("LAMP", price="30.00")
    cart = ready_cart(client_of(customer), shipping)
    seen = cart.etag  # both the checkout tab and the editing tab read this version

    def act(i):
        return complete(cart, etag=seen) if i == 0 else cart.add("LAMP", etag=seen)

    completion, edit = race(2, act)

    assert (completion.status_code, edit.status_code) in ((201, 409), (412, 200))
    if completion.status_code == 201:
        assert edit.json()["code"] in ("cart_completing", "cart_closed")
        assert [line["sku"] for line in completion.json()["lines"]] == ["MUG"]
        assert Order.objects.count() == 1
    else:
        assert Order.objects.count() == 0
        assert sorted(line["sku"] for line in cart.body()["lines"]) == ["LAMP", "MUG"]


def test_a_cart_being_completed_cannot_change_nor_be_completed_again(customer_client, mug, shipping):
    cart = ready_cart(customer_client, shipping)
    CartRow.objects.filter(pk=cart.id).update(status="completing", completion_key="first",
                                              completion_started_at=timezone.now())

    edit = cart.add("MUG")
    again = complete(cart)

    assert (edit.status_code, edit.json()["code"]) == (409, "cart_completing")
    assert (again.status_code, again.json()["code"]) == (409, "cart_completing")
    assert again.headers["Retry-After"] == "1"
    assert Order.objects.count() == 0


# ---------------------------------------------------------------- a process that dies mid-completion


def crashing(monkeypatch, module, name, when="after"):
    real = getattr(module, name)

    def step(**kwargs):
        if when == "after":
            real(**kwargs)
        raise Crash(name)

    monkeypatch.setattr(module, name, step)


def complete_crashing(cart, monkeypatch, module, name, when="after"):
    crashing(monkeypatch, module, name, when)
    cart.client.raise_request_exception = False
    response = complete(cart, key="crashing")
    assert response.status_code == 500  # the process died; its client saw an error
    monkeypatch.undo()
    cart.client.raise_request_exception = True
    assert cart_row(cart).status == "completing"


def test_a_completion_that_died_after_the_payment_is_closed_with_its_order_once_orders_recovered_it(
        customer_client, mug, shipping, monkeypatch):
    cart = ready_cart(customer_client, shipping)
    complete_crashing(cart, monkeypatch, payments_api, "payment_authorize")
    order = Order.objects.get()
    assert order.status == "pending"

    # While the order is mid-saga the cart waits for it, and says it is being completed
    assert cart_completion_recover(cart_id=cart_row(cart).pk, now=timezone.now() + LATER) is CompletionRecovery.WAITING
    assert complete(cart, key="another").json()["code"] == "cart_completing"

    # When the order's recovery confirms it, then the cart's recovery runs
    Order.objects.update(updated_at=timezone.now() - LATER)
    assert orders_recover_stuck() == 1
    assert carts_completion_recover(now=timezone.now() + LATER) == {CompletionRecovery.COMPLETED: 1}

    # Then the cart is closed with that order, which holds its stock
    body = cart.body()
    assert (body["status"], body["closed_reason"], body["order_id"]) == ("closed", "completed", str(order.id))
    order.refresh_from_db()
    assert order.status == "confirmed" and held_for(order.id) == 2
    # and a second pass finds nothing to do
    assert carts_completion_recover(now=timezone.now() + LATER) == {}


def test_a_completion_that_died_before_placing_an_order_reopens_the_cart_after_the_timeout(
        customer_client, mug, shipping, monkeypatch):
    cart = ready_cart(customer_client, shipping)
    complete_crashing(cart, monkeypatch, orders_api, "cart_order_place", when="before")
    assert Order.objects.count() == 0

    # Not yet: it could still be on its way
    assert carts_completion_recover() == {}
    # After the timeout, the beat task reopens it, saying why
    CartRow.objects.filter(pk=cart.id).update(completion_started_at=timezone.now() - LATER)
    assert carts_completion_recover_task() == {"reopened": 1}

    body = cart.body()
    assert body["status"] == "open" and body["last_failure"]["code"] == "cart_order_failed"
    assert available("MUG") == 10
    # and the customer completes it again
    assert complete(cart).status_code == 201


def test_a_completion_that_died_after_confirming_closes_the_cart_with_its_order(
        customer_client, mug, shipping, monkeypatch):
    # Given a completion whose order was confirmed but whose cart was never closed
    cart = ready_cart(customer_client, shipping)
    crashing(monkeypatch, orders_api, "cart_order_place")
    cart.client.raise_request_exception = False
    assert complete(cart, key="crashing").status_code == 500
    monkeypatch.undo()
    order = Order.objects.get()
    assert order.status == "confirmed" and cart_row(cart).status == "completing"

    # When recovery runs
    assert carts_completion_recover(now=timezone.now() + LATER) == {CompletionRecovery.COMPLETED: 1}

    # Then the cart is its order's, and the key the client retries with answers that order (a
    # process that really died stored no answer, and its claim on the key went stale)
    assert cart.body()["order_id"] == str(order.id)
    IdempotencyKey.objects.all().delete()
    assert complete(cart, key="crashing").json()["id"] == str(order.id)


# ---------------------------------------------------------------- staff see it


def test_the_order_page_in_the_admin_shows_addresses_shipping_and_the_breakdown(customer_client, staff, mug,
                                                                                 shipping):
    cart = ready_cart(customer_client, shipping, billing_address=PARIS)
    order = complete(cart).json()
    browser = Client()
    browser.force_login(staff)

    page = browser.get(f"/admin/orders/order/{order['id']}/change/").content.decode()

    assert "Erika Mustermann<br>Heidestrasse 17<br>10557 Berlin<br>DE<br>" in page
    assert "Jean Dupont<br>10 rue de Rivoli<br>75001 Paris<br>FR<br>" in page
    assert "Standard · 4.90 EUR" in page
    for label, amount in (("subtotal", "25.00"), ("shipping", "4.90"), ("discount", "0.00"), ("tax", "0.00"),
                          ("total", "29.90")):
        assert f"{amount} EUR" in page, label
