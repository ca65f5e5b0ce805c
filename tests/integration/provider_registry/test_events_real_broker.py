"""provider_registry over the real Tansu broker: every change's event reaches a consumer
of providers.v1, and a quality.v1 recommendation is consumed into a pending one."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.provider_registry.models import RecommendationRow
from shared.contracts import quality_v1
from shared.contracts.common import Role
from shared.envelope import new_event
from shared.runtime import ServiceRuntime
from tests.fixtures import provider_body
from tests.harness import client_for, eventually, make_runtime

pytestmark = pytest.mark.integration


@pytest.fixture
async def registry(
    kafka_bootstrap: str, database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    runtime = make_runtime(
        "provider_registry",
        database_url("registry"),
        tmp_path,
        kafka=kafka_bootstrap,
        consumer_group=f"g-registry-{tmp_path.name}",
    )
    await runtime.start()
    yield runtime
    await runtime.stop()


async def _events_about(consumer: AIOKafkaConsumer, subject: str, seen: list[str]) -> None:
    batches = await consumer.getmany(timeout_ms=500)
    for records in batches.values():
        for record in records:
            envelope = json.loads(record.value)
            if envelope["subject"] == subject:
                seen.append(envelope["type"])


async def test_every_change_reaches_a_consumer(registry: ServiceRuntime, kafka_bootstrap, tokens):
    consumer = AIOKafkaConsumer(
        "providers.v1", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
            created = await client.post("/providers", json=provider_body(urn=610001))
            provider_id = created.json()["provider_id"]
            await client.patch(f"/providers/{provider_id}", json={"capacity": 70})
            await client.post(
                f"/providers/{provider_id}/inspections",
                json={"inspected_on": "2024-05-01", "overall": "good"},
            )
            await client.post(
                f"/providers/{provider_id}/status", json={"status": "active", "reason": "admitted"}
            )
        seen: list[str] = []

        async def all_four() -> bool:
            await _events_about(consumer, provider_id, seen)
            return len(seen) >= 4

        await eventually(all_four, within=30)
        # One aggregate's events share a key, so they arrive in the order they happened.
        assert seen == [
            "provider.registered",
            "provider.updated",
            "provider.inspection_recorded",
            "provider.status_changed",
        ]
    finally:
        await consumer.stop()


async def test_recommendation_over_real_broker_is_stored_pending(
    registry: ServiceRuntime, kafka_bootstrap, tokens
) -> None:
    payload = quality_v1.SuspensionRecommended(
        recommendation_id=f"rec-{uuid.uuid4()}",
        provider_id=str(uuid.uuid4()),  # not (yet) on this register
        reasons=["critical alert unacknowledged"],
        recommended_at=datetime.now(UTC),
    )
    envelope = new_event(
        payload.TYPE,
        source="dps/monitoring",
        subject=payload.provider_id,
        data=payload,
        topic=quality_v1.TOPIC,
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(quality_v1.TOPIC, envelope.to_bytes(), key=envelope.key)
    finally:
        await producer.stop()

    async def stored() -> bool:
        async with registry.db.session() as session:
            return await session.get(RecommendationRow, payload.recommendation_id) is not None

    await eventually(stored, within=30)
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        # The topic is shared by every test of the session: look at this provider only.
        params = {"status": "pending", "provider_id": payload.provider_id}
        pending = (await client.get("/recommendations", params=params)).json()
    assert [r["recommendation_id"] for r in pending] == [payload.recommendation_id]
