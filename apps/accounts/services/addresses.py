"""The address book: a customer's addresses, one of them (at most) the default for shipping and
one for billing. Changes of one customer's book are serialised on their profile row, so that
the size limit and the single defaults hold under concurrent requests."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.errors import AddressBookFull
from apps.accounts.models import Address, Customer
from apps.accounts.selectors import address_get, customer_of
from apps.accounts.types import AddressData
from apps.accounts.validation import address_validate

ADDRESS_FIELDS = tuple(field.name for field in dataclasses.fields(AddressData))


def address_create(*, user, data: Mapping[str, str], is_default_shipping: bool = False,
                   is_default_billing: bool = False) -> Address:
    """Validate and add an address. The customer's first address is their default for both."""
    cleaned = address_validate(data)
    customer = customer_of(user=user)
    now = timezone.now()
    with transaction.atomic():
        _lock(customer)
        book = Address.objects.filter(customer=customer)
        if book.count() >= settings.ACCOUNTS_MAX_ADDRESSES:
            raise AddressBookFull(f"An address book holds at most {settings.ACCOUNTS_MAX_ADDRESSES} addresses.")
        is_default_shipping = is_default_shipping or not book.filter(is_default_shipping=True).exists()
        is_default_billing = is_default_billing or not book.filter(is_default_billing=True).exists()
        _defaults_clear(customer, shipping=is_default_shipping, billing=is_default_billing)
        return Address.objects.create(customer=customer, **dataclasses.asdict(cleaned),
                                      is_default_shipping=is_default_shipping,
                                      is_default_billing=is_default_billing, created_at=now, updated_at=now)


def address_update(*, user, address_id: UUID | str, data: Mapping[str, str],
                   is_default_shipping: bool | None = None, is_default_billing: bool | None = None) -> Address:
    """Change some fields; the address as a whole is validated again."""
    customer = customer_of(user=user)
    with transaction.atomic():
        _lock(customer)
        address = address_get(user=user, address_id=address_id)
        if data:
            merged = {name: getattr(address, name) for name in ADDRESS_FIELDS} | dict(data)
            for name, value in dataclasses.asdict(address_validate(merged)).items():
                setattr(address, name, value)
        if is_default_shipping is not None:
            if is_default_shipping:
                _defaults_clear(customer, shipping=True, billing=False)
            address.is_default_shipping = is_default_shipping
        if is_default_billing is not None:
            if is_default_billing:
                _defaults_clear(customer, shipping=False, billing=True)
            address.is_default_billing = is_default_billing
        address.updated_at = timezone.now()
        address.save()
    return address


def address_delete(*, user, address_id: UUID | str) -> None:
    customer = customer_of(user=user)
    with transaction.atomic():
        _lock(customer)
        address_get(user=user, address_id=address_id).delete()


def _lock(customer: Customer) -> None:
    Customer.objects.select_for_update().filter(pk=customer.pk).first()


def _defaults_clear(customer: Customer, *, shipping: bool, billing: bool) -> None:
    if shipping:
        Address.objects.filter(customer=customer, is_default_shipping=True).update(is_default_shipping=False)
    if billing:
        Address.objects.filter(customer=customer, is_default_billing=True).update(is_default_billing=False)
