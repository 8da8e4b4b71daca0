"""Cart addresses: snapshots (plain dicts) of addresses validated by the accounts module, given
inline or taken from the caller's own address book, through apps.accounts.api only."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from apps.accounts import api as accounts
from apps.checkout.errors import AddressNotFound


def address_country(address: Mapping | None) -> str | None:
    """The ISO 3166-1 alpha-2 code an address ships to."""
    if not address:
        return None
    return address.get("country") or None


def address_clean(data: Mapping, *, field: str) -> dict:
    """Validate an inline address as the address book does (422 `address_invalid` or
    `phone_invalid`, each error's field under `field`, e.g. "shipping_address.postal_code")."""
    try:
        return dataclasses.asdict(accounts.address_validate(data))
    except (accounts.AddressInvalid, accounts.PhoneInvalid) as exc:
        errors = [{**error, "field": f"{field}.{error['field']}"} for error in exc.extra.get("errors", [])]
        raise type(exc)(exc.detail, extra={**exc.extra, "errors": errors}) from exc


def address_book_snapshot(*, customer_id: int | None, address_id) -> dict:
    """A copy of one of the caller's own address-book entries; anyone else's, or a guest asking,
    is 404."""
    address = None if customer_id is None else accounts.customer_address(customer_id=customer_id,
                                                                         address_id=address_id)
    if address is None:
        raise AddressNotFound("No such address in your address book.")
    return dataclasses.asdict(address)


def country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes, as the accounts module knows them (shipping zones use them)."""
    return accounts.country_codes()
