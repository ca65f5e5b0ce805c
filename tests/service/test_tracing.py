"""One journey is one trace: an HTTP write in one service, its event through the outbox
and Kafka, and the other service's consumer applying it share one trace id."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text
from sqlmodel import select

from services.monitoring.models import ProviderProfile
from shared import temporal, tracing
from shared.contracts.common import Role
from shared.db import Database
from shared.infra_models import OutboxMessage
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork
from tests.fixtures import provider_body
from tests.harness import client_for, eventually, make_runtime
from tests.service.traced_workflow import GreetingWorkflow, greet

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The SDK with an in-memory exporter, installed once per test process (the global
    provider can be set only once); each test starts with no spans."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


@pytest.fixture
async def services(
    database_url: Callable[[str], str], tmp_path: Path, spans: InMemorySpanExporter
) -> AsyncIterator[tuple[ServiceRuntime, ServiceRuntime]]:
    broker = KafkaBroker()
    registry = make_runtime(
        "provider_registry", database_url("registry"), tmp_path, shared_broker=broker
    )
    monitoring = make_runtime(
        "monitoring", database_url("monitoring"), tmp_path, shared_broker=broker
    )
    async with TestKafkaBroker(broker):
        await registry.start()
        await monitoring.start()
        yield registry, monitoring
        await monitoring.stop()
        await registry.stop()


def named(spans: InMemorySpanExporter, kind: trace.SpanKind, name: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.kind == kind and s.name == name]


async def test_an_http_write_and_the_event_it_causes_downstream_are_one_trace(
    services: tuple[ServiceRuntime, ServiceRuntime],
    spans: InMemorySpanExporter,
    tokens: dict[Role, str],
) -> None:
    registry, monitoring = services
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        response = await client.post("/providers", json=provider_body())
    assert response.status_code == 201, response.text
    provider_id = response.json()["provider_id"]

    async def recorded() -> bool:
        async with monitoring.db.session() as session:
            return await session.get(ProviderProfile, provider_id) is not None

    await eventually(recorded)

    [server] = named(spans, trace.SpanKind.SERVER, "POST /providers")
    [consumer] = named(spans, trace.SpanKind.CONSUMER, "providers.v1 process")
    assert server.context is not None and consumer.context is not None
    assert consumer.context.trace_id == server.context.trace_id
    assert consumer.parent is not None
    assert consumer.attributes is not None
    assert consumer.attributes["cloudevents.event_type"] == "provider.registered"
    # The outbox row carried the request's W3C trace context onto the Kafka record.
    async with registry.db.session() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.headers["traceparent"].split("-")[1] == f"{server.context.trace_id:032x}"


async def test_a_caller_s_traceparent_is_continued(
    services: tuple[ServiceRuntime, ServiceRuntime],
    spans: InMemorySpanExporter,
    tokens: dict[Role, str],
) -> None:
    registry, _monitoring = services
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"}
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        response = await client.post("/providers", json=provider_body(), headers=headers)
    assert response.status_code == 201, response.text
    [server] = named(spans, trace.SpanKind.SERVER, "POST /providers")
    assert server.context is not None
    assert f"{server.context.trace_id:032x}" == caller_trace


async def test_an_action_after_commit_runs_in_the_handler_s_trace(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    """A consumer's transaction commits after the event's span ends; a workflow start
    registered inside the span must still belong to its trace."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'uow.db'}")
    seen: list[int] = []

    async def start_workflow() -> None:
        seen.append(trace.get_current_span().get_span_context().trace_id)

    tracer = trace.get_tracer("test")
    async with db.transaction() as session:
        await session.execute(text("select 1"))
        uow = UnitOfWork(session=session, source="dps/test")
        with tracer.start_as_current_span("handler") as handler:
            uow.after_commit(start_workflow)
    await eventually(lambda: _true(bool(seen)))
    assert seen == [handler.get_span_context().trace_id]
    await db.dispose()


async def _true(value: bool) -> bool:
    return value


async def test_a_workflow_started_in_a_span_continues_its_trace(
    spans: InMemorySpanExporter, temporal_address: str
) -> None:
    client = await temporal.connect(temporal_address)
    queue = f"trace-{uuid.uuid4().hex[:8]}"
    worker = temporal.make_worker(
        client, queue, workflows=[GreetingWorkflow], activities=[greet], service="trace"
    )
    tracer = trace.get_tracer("test")
    async with worker:
        with tracer.start_as_current_span("consumer") as consumer:
            result = await client.execute_workflow(
                GreetingWorkflow.run, "you", id=queue, task_queue=queue
            )
    assert result == "hello you"
    trace_id = consumer.get_span_context().trace_id
    names = {s.name for s in spans.get_finished_spans() if s.context.trace_id == trace_id}
    assert "RunWorkflow:GreetingWorkflow" in names
    assert "RunActivity:greet" in names


async def test_without_spans_recorded_a_caller_s_traceparent_still_reaches_the_outbox(
    database_url: Callable[[str], str],
    tmp_path: Path,
    tokens: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No SDK (no DPS_OTLP_ENDPOINT): no server spans, but the event a request causes
    still carries the caller's trace context on to Kafka."""
    monkeypatch.setattr(tracing, "recording", lambda: False)
    broker = KafkaBroker()
    registry = make_runtime(
        "provider_registry", database_url("registry"), tmp_path, shared_broker=broker
    )
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    async with TestKafkaBroker(broker):
        await registry.start()
        try:
            async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
                response = await client.post(
                    "/providers", json=provider_body(), headers={"traceparent": caller}
                )
            assert response.status_code == 201, response.text
            async with registry.db.session() as session:
                row = (await session.exec(select(OutboxMessage))).one()
        finally:
            await registry.stop()
    assert row.headers["traceparent"] == caller
