"""Races on real PostgreSQL: real threads, each with its own connection. Cart writes serialise on
the cart row's lock; the version the client sent decides which of two writers wins."""


import pytest
from rest_framework.test import APIClient

from apps.checkout import api as checkout
from apps.checkout.models import Cart as CartRow
from apps.checkout.models import CartLine
from tests.checkout.conftest import CARTS, cart_create
from tests.concurrency import race
from tests.conftest import client_of

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "catalog"])


def test_two_writes_from_the_same_version_one_wins_the_other_is_412(product):
    product("LAMP")
    product("MUG")
    cart = cart_create(APIClient())
    seen = cart.etag  # both writers read version 1

    def write(i):
        return cart.add(["LAMP", "MUG"][i], etag=seen).status_code

    statuses = race(2, write)
    assert sorted(statuses) == [200, 412]
    body = cart.body()
    assert len(body["lines"]) == 1 and body["version"] == 2


def test_many_writers_from_the_same_version_exactly_one_wins(product):
    product("LAMP", units=100)
    cart = cart_create(APIClient())
    seen = cart.etag
    statuses = race(8, lambda i: cart.add("LAMP", 1, etag=seen).status_code)
    assert statuses.count(200) == 1 and statuses.count(412) == 7
    assert cart.body()["lines"][0]["quantity"] == 1


def test_a_customer_asking_for_a_cart_twice_at_once_gets_one_cart(customer):
    responses = race(4, lambda i: client_of(customer).post(CARTS, {"currency": "EUR"}, format="json"))
    assert sorted(response.status_code for response in responses)[0] in (200, 201)
    assert len({response.json()["id"] for response in responses}) == 1
    assert CartRow.objects.filter(customer=customer).count() == 1


def test_two_sign_ins_with_the_same_guest_cart_merge_it_once(product, customer):
    product("LAMP", units=100)
    guest = cart_create(APIClient())
    guest.add("LAMP", 2)
    mine = cart_create(client_of(customer))
    mine.add("LAMP", 1)

    outcomes = race(2, lambda i: checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest.id,
                                                                 cart_token=guest.token))
    assert sorted(outcome.result.value for outcome in outcomes) == ["already_done", "merged"]
    assert CartLine.objects.get(cart_id=mine.id, sku="LAMP").quantity == 3


def test_two_guest_carts_signing_in_at_once_end_in_one_customer_cart(product, customer):
    product("LAMP", units=100)
    product("MUG", units=100)
    guests = [cart_create(APIClient()) for _ in range(2)]
    guests[0].add("LAMP", 1)
    guests[1].add("MUG", 1)

    outcomes = race(2, lambda i: checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guests[i].id,
                                                                 cart_token=guests[i].token))
    assert sorted(outcome.result.value for outcome in outcomes) == ["adopted", "merged"]
    assert len({outcome.cart_id for outcome in outcomes}) == 1
    open_carts = CartRow.objects.filter(customer=customer, status="open")
    assert open_carts.count() == 1
    assert sorted(CartLine.objects.filter(cart=open_carts.get()).values_list("sku", flat=True)) == ["LAMP", "MUG"]
