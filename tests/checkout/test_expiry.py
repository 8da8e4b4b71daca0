"""Carts expire CHECKOUT_CART_TTL_HOURS after their last write; a periodic task purges them."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.checkout import api as checkout
from apps.checkout.models import Cart as CartRow
from apps.checkout.models import CartLine
from apps.checkout.tasks import carts_purge_task
from tests.checkout.conftest import cart_create

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])


def age(cart_id, hours: float) -> None:
    """As if the cart had last been written `hours` ago."""
    then = timezone.now() - timedelta(hours=hours)
    CartRow.objects.filter(pk=cart_id).update(updated_at=then,
                                              expires_at=then + timedelta(hours=settings.CHECKOUT_CART_TTL_HOURS))


def test_every_write_pushes_the_expiry_back(api_client, product):
    product("LAMP")
    cart = cart_create(api_client)
    age(cart.id, settings.CHECKOUT_CART_TTL_HOURS - 1)
    cart.get()
    cart.add("LAMP")
    expires = CartRow.objects.get(pk=cart.id).expires_at
    assert expires > timezone.now() + timedelta(hours=settings.CHECKOUT_CART_TTL_HOURS - 1)


def test_an_expired_cart_is_gone_for_its_owner_before_the_purge(api_client, product):
    product("LAMP")
    cart = cart_create(api_client)
    age(cart.id, settings.CHECKOUT_CART_TTL_HOURS + 1)
    assert cart.get().status_code == 404
    assert cart.add("LAMP").status_code == 404


def test_the_purge_task_deletes_expired_carts_and_keeps_live_ones(api_client, customer_client, product):
    product("LAMP")
    old_guest, old_customer, live = cart_create(api_client), cart_create(customer_client), cart_create(api_client)
    old_guest.add("LAMP")
    for cart in (old_guest, old_customer):
        age(cart.id, settings.CHECKOUT_CART_TTL_HOURS + 1)
    # the beat schedule runs the task
    assert "checkout.carts_purge" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert carts_purge_task.delay().get() == 2
    assert {str(pk) for pk in CartRow.objects.values_list("pk", flat=True)} == {live.id}
    assert not CartLine.objects.filter(cart_id=old_guest.id).exists()
    assert live.get().status_code == 200
    assert carts_purge_task.delay().get() == 0  # nothing more to do


def test_a_customer_whose_cart_expired_gets_a_new_one(customer_client):
    old = cart_create(customer_client)
    age(old.id, settings.CHECKOUT_CART_TTL_HOURS + 1)
    again = customer_client.post("/api/v1/carts/", {"currency": "EUR"}, format="json")
    assert again.status_code == 201 and again.json()["id"] != old.id


def test_a_merged_guest_cart_is_purged_once_its_time_is_up(api_client, customer, customer_client, product):
    product("LAMP")
    cart_create(customer_client)
    guest = cart_create(api_client)
    guest.add("LAMP")
    checkout.carts_merge_on_sign_in(user_id=customer.pk, cart_id=guest.id, cart_token=guest.token)
    age(guest.id, settings.CHECKOUT_CART_TTL_HOURS + 1)
    assert carts_purge_task.delay().get() == 1
    assert CartRow.objects.filter(customer=customer).count() == 1
    assert APIClient().get(f"/api/v1/carts/{guest.id}/", HTTP_X_CART_TOKEN=guest.token).status_code == 404
