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
installed: the API's no-op tracer still passes a caller's context along, at no cost.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context

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


def instrument_app(app: Any) -> None:
    """Server spans for every route but the probes and /metrics."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
