"""OpenTelemetry tracing: one journey (HTTP request → outbox → Kafka → consumer →
Temporal) is one trace.

- HTTP: FastAPI's instrumentation opens a server span per request (continuing a caller's
  W3C `traceparent`).
- Outbox: a row written under a span carries that span's `traceparent` (and
  `tracestate`) in its headers; the relay publishes them as Kafka headers unchanged.
- Consumer: applying an event opens a consumer span whose parent is the record's
  `traceparent`, so what the handler emits, and any workflow it starts, joins the trace.
- Temporal: temporalio's TracingInterceptor carries the context into workflows and
  activities.

Spans are exported only when DPS_OTLP_ENDPOINT is set (OTLP over HTTP, e.g. an
OpenTelemetry Collector's http://collector:4318/v1/traces). Without it no SDK is
installed and no server spans are made (FastAPI's instrumentation cost about 0.3 ms of
every request, docs/performance.md): a small middleware only makes a caller's
`traceparent` the request's context, so what the request writes still carries it along.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from starlette.types import ASGIApp, Receive, Scope, Send

tracer = trace.get_tracer("dps")

# The W3C Trace Context headers (and nothing else: baggage is not propagated, so nothing
# a caller puts there travels into our events).
TRACE_HEADERS = ("traceparent", "tracestate")


def configure_tracing(service: str, otlp_endpoint: str) -> bool:
    """Install the SDK with an OTLP exporter when an endpoint is given; True if it did."""
    if not otlp_endpoint:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": f"dps-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    return True


def trace_headers() -> dict[str, str]:
    """The current span's W3C trace context as headers; empty outside a sampled span."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {name: value for name, value in carrier.items() if name in TRACE_HEADERS}


def context_of(headers: Sequence[tuple[str, bytes | None]] | None) -> Context | None:
    """The trace context a Kafka record carries, or None when it carries none."""
    carrier: dict[str, str] = {}
    for name, raw in headers or ():
        if name in TRACE_HEADERS and raw is not None:
            carrier[name] = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    return propagate.extract(carrier) if carrier else None


@contextmanager
def consuming(
    topic: str, event_type: str, headers: Sequence[tuple[str, bytes | None]] | None
) -> Iterator[Any]:
    """A consumer span for applying one event, child of the span that emitted it."""
    with tracer.start_as_current_span(
        f"{topic} process",
        context=context_of(headers),
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": topic,
            "messaging.operation.type": "process",
            "cloudevents.event_type": event_type,
        },
    ) as span:
        yield span


@contextmanager
def consuming_run(topic: str, records: Sequence[Any]) -> Iterator[Any]:
    """One consumer span for a run of events a batch handler applies at once, linked to
    each event's own trace (a span has one parent; the run answers many)."""
    links = []
    for record in records:
        context = context_of(record.headers)
        if context is not None:
            span_context = trace.get_current_span(context).get_span_context()
            if span_context.is_valid:
                links.append(trace.Link(span_context))
    with tracer.start_as_current_span(
        f"{topic} process",
        kind=trace.SpanKind.CONSUMER,
        links=links,
        attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
    ) as span:
        yield span


def recording() -> bool:
    """Whether an SDK is installed (configure_tracing, or a test's), so spans are kept."""
    provider = trace.get_tracer_provider()
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def instrument_app(app: Any) -> None:
    """Server spans for every route but the probes and /metrics when spans are recorded;
    otherwise only a caller's trace context is carried into the request."""
    if not recording():
        app.add_middleware(CallerTraceContext)
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")


class CallerTraceContext:
    """Makes a caller's W3C trace context the request's current context, so the outbox
    rows it writes carry it on (what the instrumentation does too, besides its spans)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = context_of(_trace_headers_of(scope)) if scope["type"] == "http" else None
        if caller is None:
            await self.app(scope, receive, send)
            return
        token = otel_context.attach(caller)
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)


def _trace_headers_of(scope: Scope) -> list[tuple[str, bytes]]:
    # ASGI header names are lower-case bytes; most requests carry no trace header at all.
    return [
        (name.decode("latin-1"), value)
        for name, value in scope["headers"]
        if name in (b"traceparent", b"tracestate")
    ]
