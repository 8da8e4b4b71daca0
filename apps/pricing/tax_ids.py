"""Business customers' tax ids (EU VAT numbers), checked by format and check digits per member
state (python-stdnum), not against VIES: the decision must not depend on a remote service."""

from __future__ import annotations

from stdnum.eu import vat

# VAT prefixes that are not the ISO 3166-1 code of the country.
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}


def tax_id_country(tax_id: str) -> str | None:
    """The ISO country of a valid EU VAT number ("DE136695976" -> "DE"); None when not valid."""
    if not tax_id or not vat.is_valid(tax_id):
        return None
    prefix = vat.compact(tax_id)[:2].upper()
    return _PREFIX_COUNTRY.get(prefix, prefix)


def tax_id_zero_rates(*, tax_id: str, destination_country: str | None, origin_country: str,
                      reverse_charge: bool) -> bool:
    """Intra-EU reverse charge: a sale to a business with a valid VAT number of the destination
    country, other than the shop's own (a domestic business sale carries VAT), is zero-rated."""
    if not reverse_charge or not destination_country:
        return False
    country = tax_id_country(tax_id)
    return country == destination_country.upper() and country != origin_country.upper()
