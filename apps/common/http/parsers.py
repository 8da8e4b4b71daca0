"""JSON request bodies with a nesting limit.

A small body can nest deeper than Python's recursion limit ('[' * 15000 is 15 KB): the json
module then raises RecursionError, which was a 500. Anything deeper than API_MAX_JSON_DEPTH
is refused as malformed (400) before any code walks it; no body of this API nests beyond a few
levels."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONTooDeep(ValueError):
    """The document nests deeper than API_MAX_JSON_DEPTH (or than the parser can)."""


def _too_deep(data: Any, limit: int) -> bool:
    """Whether `data` nests more than `limit` arrays or objects (breadth first: no recursion)."""
    level, depth = [data], 0
    while level:
        containers = [value for value in level if isinstance(value, dict | list)]
        if not containers:
            return False
        depth += 1
        if depth > limit:
            return True
        level = [child for value in containers for child in (value.values() if isinstance(value, dict) else value)]
    return False


def _checked(parse, *args) -> Any:
    limit = settings.API_MAX_JSON_DEPTH
    try:
        data = parse(*args)
    except RecursionError:
        raise JSONTooDeep(f"nested deeper than {limit} levels") from None
    if _too_deep(data, limit):
        raise JSONTooDeep(f"nested deeper than {limit} levels")
    return data


def json_loads(text: str | bytes) -> Any:
    """json.loads for bodies read outside DRF (signed webhooks). Raises ValueError, JSONTooDeep
    included, for anything that is not a JSON document within the nesting limit."""
    return _checked(json.loads, text)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (strict: no NaN or Infinity) with the nesting limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return _checked(super().parse, stream, media_type, parser_context)
        except JSONTooDeep as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
