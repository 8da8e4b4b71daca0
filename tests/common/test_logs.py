import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import django, logging
django.setup()
from opentelemetry import trace
from django.test import Client
log = logging.getLogger("apps.payments")
with trace.get_tracer("test").start_as_current_span("checkout"):
    log.info("authorizing token tok_visa_4242 for order 42")
log.warning("provider call with headers %s", {"Authorization": "Bearer sk_live_abcdefghijk123"})
log.info("endpoint secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw created; password=hunter2hunter2")
try:
    raise ValueError("declined card 4242 4242 4242 4242 (token tok_chargeDeclined)")
except ValueError:
    log.exception("authorization failed")
Client(HTTP_HOST="localhost").get("/no-such-page", HTTP_X_REQUEST_ID="req-abc-123")
"""


@pytest.fixture(scope="module")
def log_lines():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("{")]


def test_every_record_is_one_json_object_with_the_standard_fields(log_lines):
    records = [json.loads(line) for line in log_lines]
    assert len(records) >= 5
    for record in records:
        assert {"time", "level", "logger", "message", "trace_id", "span_id", "request_id"} <= set(record)


def test_records_inside_a_span_carry_its_trace_and_span_ids(log_lines):
    (record,) = [json.loads(line) for line in log_lines if "authorizing" in line]
    assert len(record["trace_id"]) == 32 and int(record["trace_id"], 16)
    assert len(record["span_id"]) == 16


def test_records_of_a_request_carry_its_request_id(log_lines):
    records = [json.loads(line) for line in log_lines if "no-such-page" in line]
    assert records and all(record["request_id"] == "req-abc-123" for record in records)


def test_tokens_secrets_and_authorization_headers_never_reach_the_logs(log_lines):
    text = "\n".join(log_lines)
    for secret in ("tok_visa_4242", "sk_live_abcdefghijk123", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                   "hunter2hunter2",
                   "4242 4242 4242 4242", "tok_chargeDeclined"):
        assert secret not in text
    assert text.count("[REDACTED]") >= 6
    assert "authorization failed" in text and "ValueError" in text  # the record itself survives
