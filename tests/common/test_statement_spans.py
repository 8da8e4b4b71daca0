"""OTEL_SQL_SPANS: statement spans all, sampled by trace, or off; request spans always kept.

Each case runs in a process of its own: instrumentation is installed once per process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

TRACES = """
import json
import django
django.setup()
from django.db import connection
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from apps.common.observability.telemetry import telemetry_setup

exporter = InMemorySpanExporter()
telemetry_setup(extra_processors=(SimpleSpanProcessor(exporter),))
tracer = trace.get_tracer("test")
for _ in range(200):  # 200 requests of two statements each
    with tracer.start_as_current_span("GET /things/", kind=SpanKind.SERVER), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.execute("SELECT 2")
traces = {}
for span in exporter.get_finished_spans():
    kinds = traces.setdefault(format(span.context.trace_id, "032x"), {"requests": 0, "statements": 0})
    kinds["requests" if span.kind == SpanKind.SERVER else "statements"] += 1
# Only the requests' traces: the connection's own set-up statements are traces of their own.
print(json.dumps([kinds for kinds in traces.values() if kinds["requests"]]))
"""


def traces_with(**settings) -> list[dict]:
    """Per trace, how many request and statement spans it recorded, with the given settings."""
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "TELEMETRY_ENABLED": "true",
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           **settings}
    done = subprocess.run([sys.executable, "-c", TRACES], cwd=ROOT, env=env, timeout=120, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_all_records_every_statement_of_every_request():
    traces = traces_with(OTEL_SQL_SPANS="all")
    assert len(traces) == 200
    assert all(trace == {"requests": 1, "statements": 2} for trace in traces)


@pytest.mark.django_db
def test_sampled_keeps_every_request_and_all_or_none_of_each_traces_statements():
    traces = traces_with(OTEL_SQL_SPANS="sampled", OTEL_SQL_SPANS_RATIO="0.5")
    assert len(traces) == 200 and all(trace["requests"] == 1 for trace in traces)
    assert {trace["statements"] for trace in traces} == {0, 2}
    with_statements = sum(1 for trace in traces if trace["statements"])
    assert 50 < with_statements < 150  # about half (binomial: outside this range about once in 10^12)


@pytest.mark.django_db
def test_off_keeps_every_request_and_records_no_statement():
    traces = traces_with(OTEL_SQL_SPANS="off")
    assert len(traces) == 200
    assert all(trace == {"requests": 1, "statements": 0} for trace in traces)


@pytest.mark.django_db
def test_an_unknown_mode_is_refused_at_start():
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "TELEMETRY_ENABLED": "true",
           "OTEL_SQL_SPANS": "some", "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:"
                                                      f"{db['PORT']}/{db['NAME']}"}
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "OTEL_SQL_SPANS is 'some'; it takes one of all, sampled, off" in done.stderr
