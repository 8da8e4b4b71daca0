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
log.info("refund of order 123456 (payment %s, deliveries 123456 123457 123458) to card 4242424242424242",
         "0b9d6c55-6c1e-4b7e-9b1a-5d3c2f1e0a9b")
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


def test_ids_stay_readable_while_card_numbers_are_redacted(log_lines):
    (record,) = [json.loads(line) for line in log_lines if "refund of order" in line]
    message = record["message"]
    # An order's numeric id, a UUID and a list of numeric ids are what an operator searches for
    assert "order 123456 " in message
    assert "payment 0b9d6c55-6c1e-4b7e-9b1a-5d3c2f1e0a9b" in message
    assert "deliveries 123456 123457 123458" in message
    # A card number is not
    assert "4242424242424242" not in message
    assert message.endswith("to card [REDACTED]")


LOCAL_SCRIPT = r"""
import django, logging
django.setup()
logging.getLogger("django.request").warning("Not Found: /once-from-django")
logging.getLogger("apps.orders").warning("once from the app")
logging.getLogger("django.server").info('"GET /?token=s3cr3t-token-value HTTP/1.1" 200 5')
"""


def test_make_run_prints_each_record_once_redacted(tmp_path):
    # Given the settings `make run` serves with (config.settings.local, DEBUG on)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_URL") and k != "DEBUG"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", VAR_DIR=str(tmp_path), LOG_FORMAT="json")
    result = subprocess.run([sys.executable, "-c", LOCAL_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    # Then a record of Django's, of the app and of runserver's request log is one JSON line each
    for text in ("/once-from-django", "once from the app", "GET /?token="):
        matching = [line for line in lines if text in line]
        assert len(matching) == 1, matching
        assert json.loads(matching[0])["message"]
    # And the request line went through the redaction too
    assert "s3cr3t-token-value" not in result.stdout + result.stderr
