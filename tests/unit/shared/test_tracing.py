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
