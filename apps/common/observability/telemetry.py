"""OpenTelemetry: one tracer provider per process, instrumentation of Django, psycopg, Redis,
outgoing HTTP, pymongo and Celery, OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set.

The W3C traceparent of the request that records an event travels in the outbox envelope, so the
consumer and the worker that delivers a notification continue the same trace."""

from __future__ import annotations

import contextlib
import logging
import os
import threading

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

logger = logging.getLogger(__name__)
_propagator = TraceContextTextMapPropagator()
_lock = threading.Lock()
_provider: TracerProvider | None = None


def telemetry_setup(*, extra_processors: tuple[SpanProcessor, ...] = ()) -> TracerProvider:
    """Install the tracer provider and instrument libraries, once per process."""
    global _provider
    with _lock:
        if _provider is None:
            resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "commerce")})
            _provider = TracerProvider(resource=resource)
            if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            trace.set_tracer_provider(_provider)
            _instrument_libraries()
        for processor in extra_processors:
            _provider.add_span_processor(processor)
        return _provider


def _instrument_libraries() -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    # Query text is recorded without parameters; payment tokens and emails stay out of spans.
    DjangoInstrumentor().instrument(is_sql_commentor_enabled=False)
    PsycopgInstrumentor().instrument(enable_commenter=False, skip_dep_check=True)
    RedisInstrumentor().instrument()
    RequestsInstrumentor().instrument()
    PymongoInstrumentor().instrument()
    CeleryInstrumentor().instrument()


def current_traceparent() -> str:
    """The W3C traceparent of the active span ("" outside any trace)."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent", "")


@contextlib.contextmanager
def continue_trace(traceparent: str, span_name: str, **attributes):
    """Run the block in a span that continues the trace of `traceparent` (from an envelope)."""
    parent = _propagator.extract({"traceparent": traceparent}) if traceparent else context.get_current()
    token = context.attach(parent)
    try:
        with trace.get_tracer("apps.common").start_as_current_span(span_name, attributes=attributes) as span:
            yield span
    finally:
        context.detach(token)


def current_ids() -> tuple[str, str]:
    """(trace_id, span_id) of the active span as hex, or ("", "")."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return "", ""
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
