"""Structured logs: one JSON object per line with time, level, logger, message, trace_id,
span_id and request_id. Payment tokens, secrets and authorization headers are redacted from
every record, whatever logger or library wrote it."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver

from apps.common.observability.telemetry import current_ids

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

REDACTED = "[REDACTED]"
# A card number: 13 to 19 digits, in one run or in the groups cards are printed in (4-4-4-4,
# 4-6-5, ...), that pass the Luhn check. Order numbers, numeric ids, timestamps and lists of ids
# stay readable; digits inside a longer token (a UUID, a hex id, a dashed reference) are no card.
_CARD_NUMBER = re.compile(
    r"(?<![\w-])(?:\d{13,19}"
    r"|\d{4}(?P<sep>[ -])\d{4}(?P=sep)\d{4}(?P=sep)\d{1,4}(?:(?P=sep)\d{1,3})?"
    r"|\d{4}(?P<sep6>[ -])\d{6}(?P=sep6)\d{4,5})(?![\w-])")
_SECRET_PATTERNS = [
    # payment method tokens (sandbox and processors): tok_..., pm_..., card_..., src_...
    re.compile(r"\b(?:tok|pm|card|src)_[A-Za-z0-9_]+"),
    # webhook secrets and bearer / token / basic credentials
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"),
    re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    # key=value and "key": "value" pairs whose key says secret
    re.compile(r"(?i)([\"']?(?:authorization|password|passwd|secret|api[_-]?key|payment_token|token|cookie)"
               r"[\"']?\s*[:=]\s*[\"']?)([^\"'\s,&}]+)"),
]


def _luhn_valid(digits: str) -> bool:
    """The checksum every card number carries (ISO/IEC 7812): most other numbers fail it."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _redact_card_number(match: re.Match) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return REDACTED if 13 <= len(digits) <= 19 and _luhn_valid(digits) else match.group(0)


def redact(text: str) -> str:
    text = _CARD_NUMBER.sub(_redact_card_number, text)
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        elif pattern.groups == 1:
            text = pattern.sub(lambda m: m.group(1) + " " + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders the message once, redacted, so no handler can print the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        trace_id, span_id = current_ids()
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": trace_id,
            "span_id": span_id,
            "request_id": request_id_var.get(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestIdMiddleware:
    """Takes X-Request-ID from the caller (or makes one), logs with it and echoes it back."""

    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(self.header, "")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        # Left set until request_finished: Django logs the response (4xx/5xx) after the middleware.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[self.header] = request_id
        return response


@receiver(request_finished)
def _clear_request_id(**kwargs):
    request_id_var.set("")
