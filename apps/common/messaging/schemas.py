"""Versioned JSON Schemas of the domain events: schemas/events/<type>.v<version>.json.

Producers' tests validate real payloads against them and consumers validate what they
receive (consumer-driven contracts)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas" / "events"


class UnknownEventSchema(LookupError):
    pass


@functools.cache
def event_schema(event_type: str, version: int) -> dict:
    path = SCHEMA_DIR / f"{event_type}.v{version}.json"
    if not path.is_file():
        raise UnknownEventSchema(f"No schema for {event_type} v{version} at {path}")
    return json.loads(path.read_text())


@functools.cache
def _validator(event_type: str, version: int) -> jsonschema.Draft202012Validator:
    # jsonschema.validate() checks the schema against the metaschema on every call: once is enough.
    schema = event_schema(event_type, version)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate_event_data(event_type: str, version: int, data: dict) -> None:
    """Raise jsonschema.ValidationError when `data` breaks the event's contract."""
    error = jsonschema.exceptions.best_match(_validator(event_type, version).iter_errors(data))
    if error is not None:
        raise error
