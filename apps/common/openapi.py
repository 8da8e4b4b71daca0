"""The OpenAPI schema's AutoSchema: drf-spectacular's, with request schemas that state what DRF's
input validation enforces and drf-spectacular leaves out, so that a request the schema calls
valid is one the API accepts (schemathesis checks both ways, tests/common/test_api_schema.py)."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular import openapi
from rest_framework import serializers

# DRF strips strings before it checks them: "  " is blank, " ab" too short for a minimum length of 3.
NOT_BLANK = r"\S"  # has a character that is not whitespace
TRIMMED = r"^\S(?:[\s\S]*\S)?$"  # ... and none at either end


class AutoSchema(openapi.AutoSchema):
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
