"""The OpenAPI schema's AutoSchema: drf-spectacular's, with request schemas that state what DRF's
input validation enforces and drf-spectacular leaves out, so that a request the schema calls
valid is one the API accepts (schemathesis checks both ways, tests/common/test_api_schema.py),
and with the response headers every operation of a kind sends: Retry-After on 429 and 503,
Idempotent-Replayed where an Idempotency-Key is taken."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from apps.common.http.idempotency import HEADER as IDEMPOTENCY_KEY_HEADER
from apps.common.http.idempotency import REPLAYED_HEADER

# DRF strips strings before it checks them: "  " is blank, " ab" too short for a minimum length of 3.
NOT_BLANK = r"\S"  # has a character that is not whitespace
TRIMMED = r"^\S(?:[\s\S]*\S)?$"  # ... and none at either end


# Throttled (429) and shed (503) requests say when to come back; so does an Idempotency-Key whose
# first request is still running (409).
RETRY_AFTER_STATUSES = ("429", "503")
RETRY_AFTER = {"schema": {"type": "integer", "minimum": 0},
               "description": "Seconds to wait before sending the request again."}
# Refused before the Idempotency-Key is looked at: never a stored answer.
NEVER_REPLAYED_STATUSES = ("401", "429")
IDEMPOTENT_REPLAYED = {
    "schema": {"type": "string", "enum": ["true"]},
    "description": "Present on the stored answer to an earlier request with this Idempotency-Key: "
                   "nothing was done again.",
}
ETAG_PATTERN = r'^"[0-9]+"$'


def etag_header(resource: str, *statuses: int, if_match: bool = True) -> OpenApiParameter:
    """The ETag ("<version>") that the given success responses of a resource carry, for
    @extend_schema(parameters=...); `if_match` when its writes take it back as If-Match."""
    description = f'The {resource}\'s version, "<version>".'
    if if_match:
        description += f" Send it as If-Match to change the {resource} only if nobody has meanwhile (else 412)."
    return OpenApiParameter("ETag", str, OpenApiParameter.HEADER, required=True, pattern=ETAG_PATTERN,
                            response=list(statuses), description=description)


class AutoSchema(openapi.AutoSchema):
    def _takes_idempotency_key(self) -> bool:
        return any(isinstance(parameter, OpenApiParameter) and not parameter.response
                   and parameter.location == OpenApiParameter.HEADER and parameter.name == IDEMPOTENCY_KEY_HEADER
                   for parameter in self.get_override_parameters())

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        idempotent = self._takes_idempotency_key()
        if status_code in RETRY_AFTER_STATUSES or (idempotent and status_code == "409"):
            headers.setdefault("Retry-After", dict(RETRY_AFTER))
        if idempotent and status_code not in NEVER_REPLAYED_STATUSES:
            headers.setdefault(REPLAYED_HEADER, dict(IDEMPOTENT_REPLAYED))
        return headers

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            properties = schema.get("properties", {})
            for name, field in serializer.fields.items():
                if isinstance(properties.get(name), dict):
                    request_constraints(field, properties[name])
        return schema


def request_constraints(field: serializers.Field, schema: dict) -> None:
    """Add to `schema` (in place) the input rules of `field` that drf-spectacular does not show."""
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        if not field.allow_empty:
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        if isinstance(field, serializers.ListSerializer):
            if field.min_length is not None:
                schema["minItems"] = max(schema.get("minItems", 0), field.min_length)
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        elif isinstance(schema.get("items"), dict):
            request_constraints(field.child, schema["items"])
    elif isinstance(field, serializers.DecimalField) and schema.get("format") == "decimal":
        schema["pattern"] = _decimal_pattern(field)
    elif (isinstance(field, serializers.CharField) and field.trim_whitespace and not field.allow_blank
          and schema.get("type") == "string" and not {"pattern", "format", "enum"} & schema.keys()):
        schema["pattern"] = TRIMMED if schema.get("minLength", 0) > 1 else NOT_BLANK


def _decimal_pattern(field: serializers.DecimalField) -> str:
    """A decimal string DRF parses within the field's digits (drf-spectacular's pattern also
    matches "", "-" and "."); no sign when the field refuses negative numbers."""
    non_negative = field.min_value is not None and Decimal(field.min_value) >= 0
    sign = "" if non_negative else "-?"
    if field.max_whole_digits is None:
        whole = r"\d+"
    else:
        whole = r"0" if field.max_whole_digits == 0 else rf"\d{{1,{field.max_whole_digits}}}"
    fraction = rf"(?:\.\d{{1,{field.decimal_places}}})?" if field.decimal_places else ""
    return rf"^{sign}{whole}{fraction}$"
