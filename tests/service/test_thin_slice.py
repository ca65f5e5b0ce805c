"""The thin slice over FastStream's in-memory test broker: a provider registered through
provider_registry's API reaches monitoring through the outbox, relay and inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlmodel import func, select

from services.monitoring.models import ProviderProfile
from shared.contracts.common import Role
from shared.envelope import decode_envelope
from shared.infra_models import DeadLetter, InboxEntry, OutboxMessage
from shared.runtime import ServiceRuntime
from tests.fixtures import provider_body
from tests.harness import client_for, eventually, make_runtime


@pytest.fixture
async def services(
    database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[tuple[ServiceRuntime, ServiceRuntime, KafkaBroker]]:
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
        yield registry, monitoring, broker
        await monitoring.stop()
        await registry.stop()


async def count(runtime: ServiceRuntime, model: type) -> int:
    async with runtime.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def test_registered_provider_reaches_monitoring_once(services, tokens) -> None:
    registry, monitoring, broker = services
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        response = await client.post("/providers", json=provider_body())
    assert response.status_code == 201, response.text
    provider_id = response.json()["provider_id"]
    assert response.json()["location"]["postcode"] == "ME14 1XX"

    async def recorded() -> bool:
        async with monitoring.db.session() as session:
            return await session.get(ProviderProfile, provider_id) is not None

    await eventually(recorded)

    # The same event delivered again is applied once.
    async with registry.db.session() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.published_at is not None
    await broker.publish(row.payload, "providers.v1", key=row.key.encode())
    assert await count(monitoring, ProviderProfile) == 1
    assert await count(monitoring, InboxEntry) == 1
    assert decode_envelope(row.payload).subject == provider_id


async def test_malformed_message_is_dead_lettered_and_next_one_applied(services, tokens) -> None:
    registry, monitoring, broker = services
    await broker.publish(b"{not json", "providers.v1", key=b"x")
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        response = await client.post("/providers", json=provider_body(urn=654321))
    assert response.status_code == 201

    async def applied() -> bool:
        return await count(monitoring, ProviderProfile) == 1

    await eventually(applied)
    async with monitoring.db.session() as session:
        dead = (await session.exec(select(DeadLetter))).one()
        dlq_rows = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.topic == "providers.v1.dlq")
            )
        ).all()
    assert dead.reason.startswith("not JSON")
    assert dead.payload == b"{not json"
    assert len(dlq_rows) == 1 and dlq_rows[0].headers["dlq_topic"] == "providers.v1"


async def test_registration_requires_a_writer_role(services, tokens) -> None:
    registry, _, _ = services
    async with client_for(registry) as anonymous:
        assert (await anonymous.post("/providers", json=provider_body())).status_code == 401
    async with client_for(registry, "not-a-token") as bad:
        assert (await bad.post("/providers", json=provider_body())).status_code == 401
    async with client_for(registry, tokens[Role.MONITORING_OFFICER]) as officer:
        response = await officer.post("/providers", json=provider_body())
    assert response.status_code == 403
    assert await count(registry, OutboxMessage) == 0


async def test_bad_provider_gets_422_naming_fields_and_nothing_is_written(services, tokens) -> None:
    registry, _, _ = services
    body = provider_body(urn=12, age_low=18, age_high=5, postcode="nowhere")
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        response = await client.post("/providers", json=body)
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["detail"]}
    assert {"urn", "postcode"} <= fields
    assert any(f.startswith("age") for f in fields)
    assert await count(registry, OutboxMessage) == 0


async def test_correlation_id_of_a_request_reaches_its_event(services, tokens) -> None:
    registry, _, _ = services
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        response = await client.post(
            "/providers", json=provider_body(urn=111222), headers={"X-Correlation-ID": "journey-42"}
        )
    assert response.headers["X-Correlation-ID"] == "journey-42"
    async with registry.db.session() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert decode_envelope(row.payload).correlationid == "journey-42"
    assert row.headers["correlation_id"] == "journey-42"
