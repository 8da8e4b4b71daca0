"""What makes a product's fields valid, for the services and the forms and serializers in front
of them."""

from __future__ import annotations

import re

SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")


def field_error(field: str, message: str, code: str = "invalid") -> dict[str, str]:
    """One entry of InvalidProduct's `errors`."""
    return {"field": field, "code": code, "message": message}
