"""The only module other apps may import from apps.accounts.

Functions here take and return primitives or frozen dataclasses, never models or querysets:
the caller may live on another database."""

from __future__ import annotations

import dataclasses
from uuid import UUID

from django.core.exceptions import ValidationError

from apps.accounts.errors import AddressInvalid, PhoneInvalid
from apps.accounts.models import Address
from apps.accounts.serializers import AddressFieldsSerializer
from apps.accounts.types import AddressData
from apps.accounts.validation import address_validate, country_codes

__all__ = ["AddressData", "AddressFieldsSerializer", "AddressInvalid", "PhoneInvalid", "address_validate",
           "country_codes", "customer_address"]

_ADDRESS_FIELDS = tuple(field.name for field in dataclasses.fields(AddressData))


def customer_address(*, customer_id: int, address_id: UUID | str) -> AddressData | None:
    """An address of this customer's (auth user id) address book; None if they have no such
    address (another customer's is None too)."""
    try:
        row = Address.objects.filter(pk=address_id, customer__user_id=customer_id).values(*_ADDRESS_FIELDS).first()
    except (ValueError, ValidationError):  # not a UUID
        return None
    return None if row is None else AddressData(**row)
