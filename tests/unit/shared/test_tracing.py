"""Tracing's configuration: no exporter unless an OTLP endpoint is set; the W3C trace
context read from and written to Kafka headers."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from shared import tracing
from shared.settings import settings_for


def test_no_endpoint_installs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    installed: list[Any] = []
    monkeypatch.setattr(trace, "set_tracer_provider", installed.append)
    assert settings_for("placements").otlp_endpoint == ""
    assert tracing.configure_tracing("placements", "") is False
    assert installed == []


def test_an_endpoint_installs_the_sdk_with_an_otlp_exporter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    installed: list[Any] = []
    monkeypatch.setattr(trace, "set_tracer_provider", installed.append)
    endpoint = "http://otel-collector:4318/v1/traces"
    assert tracing.configure_tracing("placements", endpoint) is True
    [provider] = installed
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "dps-placements"
    [processor] = provider._active_span_processor._span_processors
    exporter = processor.span_exporter  # type: ignore[attr-defined]
    assert isinstance(exporter, OTLPSpanExporter)
    provider.shutdown()


def test_the_trace_context_round_trips_through_kafka_headers() -> None:
    provider = TracerProvider()  # a local one: the global provider is left alone
    with provider.get_tracer("test").start_as_current_span("request") as span:
        headers = tracing.trace_headers()
    assert set(headers) == {"traceparent"}
    record_headers = [(k, v.encode()) for k, v in headers.items()] + [("other", b"x")]
    context = tracing.context_of(record_headers)
    assert context is not None
    parent = trace.get_current_span(context).get_span_context()
    assert parent.trace_id == span.get_span_context().trace_id
    assert tracing.context_of([("content-type", b"application/json")]) is None
    assert tracing.trace_headers() == {}  # outside any span: nothing added to the outbox


@pytest.mark.parametrize(
    ("provider", "recorded"),
    [
        (trace.ProxyTracerProvider(), False),  # nothing installed
        (trace.NoOpTracerProvider(), False),
        (TracerProvider(), True),
    ],
)
def test_spans_are_recorded_only_with_an_sdk_installed(
    monkeypatch: pytest.MonkeyPatch, provider: trace.TracerProvider, recorded: bool
) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    assert tracing.recording() is recorded


@pytest.mark.parametrize("recorded", [False, True])
def test_an_app_gets_server_spans_only_when_they_are_recorded(
    monkeypatch: pytest.MonkeyPatch, recorded: bool
) -> None:
    from fastapi import FastAPI
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    monkeypatch.setattr(tracing, "recording", lambda: recorded)
    app = FastAPI()
    tracing.instrument_app(app)
    middleware = [m.cls for m in app.user_middleware]
    assert (tracing.CallerTraceContext in middleware) is not recorded
    assert getattr(app, "_is_instrumented_by_opentelemetry", False) is recorded
    if recorded:
        FastAPIInstrumentor.uninstrument_app(app)


async def _seen_by_the_request(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """What trace headers a request's own writes would carry, behind CallerTraceContext."""
    seen: dict[str, str] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(tracing.trace_headers())

    async def nothing() -> dict[str, Any]:
        return {"type": "http.request"}

    async def ignore(_message: Any) -> None:
        return None

    scope = {"type": "http", "headers": [(b"host", b"x"), *headers]}
    await tracing.CallerTraceContext(app)(scope, nothing, ignore)
    return seen


async def test_without_an_sdk_a_caller_s_trace_context_is_carried_into_the_request() -> None:
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    seen = await _seen_by_the_request([(b"traceparent", caller.encode())])
    assert seen["traceparent"] == caller
    assert await _seen_by_the_request([]) == {}
    assert tracing.trace_headers() == {}  # detached again after the request
