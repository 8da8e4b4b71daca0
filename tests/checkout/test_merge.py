"""A guest cart joins the customer's at sign-in (apps.checkout.api.carts_merge_on_sign_in, which
the accounts sign-in calls with the guest's cart id and token)."""

import uuid

import pytest

from apps.checkout import api as checkout
from apps.checkout.models import Cart as CartRow
from tests.checkout.conftest import BERLIN, FR_VAT, apply_code, cart_create, cart_url, line, token_header
from tests.conftest import client_of
from tests.pricing.factories import PromotionFactory, VoucherFactory

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])


@pytest.fixture
def guest_cart(api_client, product):
    product("LAMP", price="19.99")
    product("MUG", price="7.50")
    cart = cart_create(api_client)
    cart.add("LAMP", 1)
    cart.add("MUG", 2)
    return cart


def test_the_guest_lines_are_added_into_the_customers_open_cart(guest_cart, customer, customer_client):
    # given the customer's own euro cart with a lamp
    mine = cart_create(customer_client)
    mine.add("LAMP", 2)
    # when they sign in with the guest cart
    outcome = checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)
    # then their cart holds both carts' units, and the guest cart is closed and points to it
    assert outcome == checkout.CartMergeOutcome(result=checkout.CartMergeResult.MERGED, cart_id=uuid.UUID(mine.id))
    body = mine.body()
    assert (line(body, "LAMP")["quantity"], line(body, "MUG")["quantity"]) == (3, 2)
    assert body["total"] == "74.97"
    guest = guest_cart.body()
    assert (guest["status"], guest["closed_reason"], guest["merged_into"]) == ("closed", "merged", mine.id)
    # and a write to the merged guest cart is refused
    refused = guest_cart.add("LAMP")
    assert refused.status_code == 409 and refused.json()["code"] == "cart_closed"
    assert refused.json()["merged_into"] == mine.id


def test_merging_again_changes_nothing(guest_cart, customer, customer_client):
    mine = cart_create(customer_client)
    first = checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)
    again = checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)
    assert first.result is checkout.CartMergeResult.MERGED
    assert again == checkout.CartMergeOutcome(result=checkout.CartMergeResult.ALREADY_DONE, cart_id=first.cart_id)
    assert line(mine.body(), "MUG")["quantity"] == 2


def test_a_customer_without_a_cart_in_that_currency_adopts_the_guest_cart(guest_cart, customer, customer_client):
    cart_create(customer_client, "USD")  # another currency: not merged into
    guest_cart.patch({"shipping_address": BERLIN})
    outcome = checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)
    assert outcome == checkout.CartMergeOutcome(result=checkout.CartMergeResult.ADOPTED,
                                                cart_id=uuid.UUID(guest_cart.id))
    # the customer now has it with their credentials; the token alone no longer opens it
    body = customer_client.get(cart_url(guest_cart.id)).json()
    assert body["status"] == "open" and len(body["lines"]) == 2 and body["shipping_address"]["city"] == "Berlin"
    assert guest_cart.get().status_code == 404
    again = checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)
    assert again.result is checkout.CartMergeResult.ALREADY_DONE
    assert customer_client.post("/api/v1/carts/", {"currency": "EUR"}, format="json").json()["id"] == guest_cart.id


def test_the_guest_address_and_method_fill_a_customer_cart_that_has_none(guest_cart, customer, customer_client,
                                                                         shipping):
    mine = cart_create(customer_client)
    guest_cart.patch({"shipping_address": BERLIN, "shipping_method_id": shipping["flat"].pk})
    checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)
    body = mine.body()
    assert body["shipping_address"]["city"] == "Berlin" and body["shipping_method"]["name"] == "Standard"
    assert body["billing_address"] is None


@pytest.mark.parametrize("wrong", ["token", "cart", "not-a-uuid"])
def test_a_wrong_token_or_cart_merges_nothing(guest_cart, customer, customer_client, wrong):
    mine = cart_create(customer_client)
    cart_id = {"cart": uuid.uuid4(), "not-a-uuid": "nope"}.get(wrong, guest_cart.id)
    token = "guessed" if wrong == "token" else guest_cart.token
    outcome = checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=cart_id, cart_token=token)
    assert outcome == checkout.CartMergeOutcome(result=checkout.CartMergeResult.NOT_FOUND, cart_id=None)
    assert mine.body()["lines"] == [] and guest_cart.body()["status"] == "open"


def test_another_customers_cart_is_not_merged(guest_cart, customer, other_customer):
    checkout.carts_merge_on_sign_in(user_id=other_customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)
    outcome = checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)
    assert outcome.result is checkout.CartMergeResult.NOT_FOUND
    assert client_of(customer).get(cart_url(guest_cart.id)).status_code == 404
    assert client_of(other_customer).get(cart_url(guest_cart.id)).status_code == 200


def test_merged_quantities_stop_at_the_line_limit(guest_cart, customer, customer_client, settings, product):
    product("BOLT", price="0.10", units=5000)
    guest_cart.add("BOLT", 600)
    mine = cart_create(customer_client)
    mine.add("BOLT", 600)
    checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)
    assert line(mine.body(), "BOLT")["quantity"] == settings.CHECKOUT_LINE_MAX_QUANTITY


def test_an_expired_guest_cart_is_not_merged(guest_cart, customer):
    CartRow.objects.filter(pk=guest_cart.id).update(expires_at="2000-01-01T00:00:00Z")
    outcome = checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)
    assert outcome.result is checkout.CartMergeResult.NOT_FOUND


def test_the_guest_token_header_is_what_opens_a_guest_cart_for_a_signed_in_caller(guest_cart, customer_client):
    """Before the merge, a signed-in caller holding the token may still use the guest cart."""
    assert customer_client.get(cart_url(guest_cart.id), **token_header(guest_cart.token)).status_code == 200


def test_the_guest_codes_and_vat_number_join_the_customers_cart(guest_cart, customer, customer_client):
    VoucherFactory(code="WELCOME10", promotion=PromotionFactory(value=10, combinable=True))
    VoucherFactory(code="SPRING", promotion=PromotionFactory(value=5, combinable=True))
    assert apply_code(guest_cart, "WELCOME10").status_code == 200
    assert guest_cart.patch({"tax_id": FR_VAT}).status_code == 200
    mine = cart_create(customer_client)
    mine.add("MUG")
    assert apply_code(mine, "SPRING").status_code == 200

    checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest_cart.id, cart_token=guest_cart.token)

    body = mine.body()
    assert (body["voucher_codes"], body["tax_id"], body["code_problems"]) == (["SPRING", "WELCOME10"], FR_VAT, [])
    assert sorted(line["voucher_code"] for line in body["discount_lines"]) == ["SPRING", "WELCOME10"]
