"""OpenTelemetry: one tracer provider per process, instrumentation of Django, psycopg, Redis,
outgoing HTTP, pymongo and Celery, OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Request, task, consumer and outgoing HTTP spans are always recorded. Statement spans (one per
SQL statement, MongoDB command or Redis command: dozens per order) follow OTEL_SQL_SPANS:
`all`, `sampled` (those of OTEL_SQL_SPANS_RATIO of the traces, decided by trace id, so a trace
has all of its statements or none) or `off` (the drivers are not instrumented at all).

The W3C traceparent of the request that records an event travels in the outbox envelope, so the
consumer and the worker that delivers a notification continue the same trace."""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

logger = logging.getLogger(__name__)
_propagator = TraceContextTextMapPropagator()
_lock = threading.Lock()
_provider: TracerProvider | None = None
# The provider of statement spans: the main one (all), one that samples by trace id (sampled),
# or None (off). Both providers share the span processors.
_statement_provider: TracerProvider | None = None
_statement_bound = TraceIdRatioBased.get_bound_for_rate(1.0)


class StatementSpans(enum.StrEnum):
    """What OTEL_SQL_SPANS may say."""

    ALL = "all"
    SAMPLED = "sampled"
    OFF = "off"


def telemetry_setup(*, extra_processors: tuple[SpanProcessor, ...] = ()) -> TracerProvider:
    """Install the tracer provider and instrument libraries, once per process."""
    global _provider, _statement_provider
    with _lock:
        if _provider is None:
            resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "commerce")})
            _provider = TracerProvider(resource=resource)
            _statement_provider = _statement_provider_for(settings.OTEL_SQL_SPANS, resource=resource)
            if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                _processor_add(BatchSpanProcessor(OTLPSpanExporter()))
            trace.set_tracer_provider(_provider)
            _instrument_libraries(_statement_provider)
        for processor in extra_processors:
            _processor_add(processor)
        return _provider


def _statement_provider_for(setting: str, *, resource: Resource) -> TracerProvider | None:
    try:
        mode = StatementSpans(setting)
    except ValueError:
        choices = ", ".join(StatementSpans)
        raise ImproperlyConfigured(f"OTEL_SQL_SPANS is {setting!r}; it takes one of {choices}.") from None
    if mode is StatementSpans.OFF:
        return None
    if mode is StatementSpans.SAMPLED:
        # Decided by trace id: a statement of a kept trace is kept, whatever its parent's kind.
        global _statement_bound
        ratio = TraceIdRatioBased(settings.OTEL_SQL_SPANS_RATIO)
        _statement_bound = ratio.bound
        return TracerProvider(resource=resource, sampler=ParentBased(
            root=ratio, remote_parent_sampled=ratio, local_parent_sampled=ratio))
    return _provider


def _statement_sampled() -> bool:
    """Whether the current trace keeps its statements: the statement provider's own rule (by
    trace id); a statement outside any trace is left to its sampler."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return True
    return span_context.trace_id & TraceIdRatioBased.TRACE_ID_LIMIT < _statement_bound


def _statement_gates_install() -> None:
    """Sampled mode: a statement of a trace left out skips the instrumentation altogether. Its
    wrapper formats the command and opens a (non-recording) span before the sampler has a say,
    which cost about as much as a recorded span (some 60 µs of CPU per Redis command here)."""
    import redis.client
    from opentelemetry.instrumentation.dbapi import CursorTracer  # psycopg's cursors go through it

    traced_execution = CursorTracer.traced_execution

    def execution_gated(self, cursor, query_method, *args, **kwargs):
        if _statement_sampled():
            return traced_execution(self, cursor, query_method, *args, **kwargs)
        return query_method(*args, **kwargs)

    CursorTracer.traced_execution = execution_gated
    for owner, name in ((redis.Redis, "execute_command"), (redis.client.Pipeline, "execute"),
                        (redis.client.Pipeline, "immediate_execute_command")):
        traced = owner.__dict__[name]  # the instrumentation's wrapper of `plain`
        plain = traced.__wrapped__

        def gated(self, *args, _traced=traced, _plain=plain, **kwargs):
            if _statement_sampled():
                return _traced.__get__(self, type(self))(*args, **kwargs)
            return _plain(self, *args, **kwargs)

        setattr(owner, name, gated)


def _processor_add(processor: SpanProcessor) -> None:
    _provider.add_span_processor(processor)
    if _statement_provider is not None and _statement_provider is not _provider:
        _statement_provider.add_span_processor(processor)


def _instrument_libraries(statement_provider: TracerProvider | None) -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    # Query text is recorded without parameters; payment tokens and emails stay out of spans.
    DjangoInstrumentor().instrument(is_sql_commentor_enabled=False)
    RequestsInstrumentor().instrument()
    CeleryInstrumentor().instrument()
    if statement_provider is None:
        return
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    PsycopgInstrumentor().instrument(enable_commenter=False, skip_dep_check=True, tracer_provider=statement_provider)
    RedisInstrumentor().instrument(tracer_provider=statement_provider)
    PymongoInstrumentor().instrument(tracer_provider=statement_provider)
    if statement_provider is not _provider:
        _statement_gates_install()


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
