"""From a ``placement.need.raised`` event on the real broker to
``procurement.competition.awarded`` on the real broker, via bids, the tender deadline
(Temporal, time skipped) and the commissioner's award."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import BaseModel
from temporalio.testing import WorkflowEnvironment

from services.procurement.models import CompetitionRow, ProviderRow
from shared.contracts import placements_v1, providers_v1
from shared.envelope import decode_envelope, new_event
from shared.runtime import ServiceRuntime
from tests.harness import eventually, make_runtime
from tests.service.procurement.conftest import Driver, snapshot
from tests.service.procurement.test_needs import need

pytestmark = pytest.mark.integration


@pytest.fixture
async def runtime(
    kafka_bootstrap: str,
    database_url: Callable[[str], str],
    tmp_path: Path,
    time_skipping: WorkflowEnvironment,
) -> AsyncIterator[ServiceRuntime]:
    rt = make_runtime(
        "procurement",
        database_url("procurement"),
        tmp_path,
        kafka=kafka_bootstrap,
        consumer_group=f"g-procurement-{uuid.uuid4().hex[:6]}",  # the broker is shared
    )
    rt.temporal = time_skipping.client
    await rt.start()
    yield rt
    await rt.stop()


async def publish(
    bootstrap: str, topic: str, event_type: str, subject: str, payload: BaseModel
) -> None:
    envelope = new_event(
        event_type, source="test/placements", subject=subject, data=payload, topic=topic
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, envelope.to_bytes(), key=subject.encode())
    finally:
        await producer.stop()


async def read_events(bootstrap: str, topic: str) -> list[tuple[str, str, dict[str, object]]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=3000, max_records=10000)
        envelopes = [decode_envelope(r.value) for records in batches.values() for r in records]
    finally:
        await consumer.stop()
    return [(e.type, e.subject, e.data) for e in envelopes]


async def test_need_raised_to_competition_awarded_over_the_real_broker(
    runtime: ServiceRuntime, kafka_bootstrap: str, time_skipping: WorkflowEnvironment
) -> None:
    proc = Driver(runtime, runtime.broker)
    scheme_id = await proc.scheme()
    for provider_id in ("rb-1", "rb-2"):
        registered = providers_v1.ProviderRegistered(
            provider=snapshot(provider_id), registered_by="t"
        )
        await publish(
            kafka_bootstrap,
            providers_v1.TOPIC,
            providers_v1.PROVIDER_REGISTERED,
            provider_id,
            registered,
        )
    for provider_id in ("rb-1", "rb-2"):
        await eventually(lambda pid=provider_id: _known(runtime, pid), within=60)  # type: ignore[misc]
        r = await proc.decide(await proc.apply(scheme_id, provider_id), score=70)
        assert r.status_code == 200

    raised = need()
    await publish(
        kafka_bootstrap, placements_v1.TOPIC, "placement.need.raised", raised.need_id, raised
    )
    competition_id = f"need-{raised.need_id}"
    await eventually(lambda: _exists(runtime, competition_id), within=60)
    assert (await proc.bid(competition_id, "rb-1", fee="1900.00")).status_code == 201
    assert (await proc.bid(competition_id, "rb-2", fee="1750.00")).status_code == 201

    handle = time_skipping.client.get_workflow_handle(f"competition-{competition_id}")
    await eventually(lambda: _running(handle), within=30)
    deadline = datetime.fromisoformat(
        (await proc.get(f"/competitions/{competition_id}")).json()["deadline_at"]
    )
    now = await time_skipping.get_current_time(handle)
    assert await time_skipping.fast_forward(handle, deadline - now + timedelta(minutes=1))
    # The need's call-off asks how the offer meets the child's needs: evaluators score it.
    await eventually(lambda: _status_is(runtime, competition_id, "evaluation"), within=30)
    # Scored out of the scheme's published maximum for "fit" (10).
    r = await proc.score_and_evaluate(competition_id, {"rb-1": 8, "rb-2": 6})
    assert r.status_code == 200, r.text
    r = await proc.award(competition_id)
    assert r.status_code == 200, r.text
    assert await handle.result() == "awarded"

    async def awarded_on_the_broker() -> bool:
        events = await read_events(kafka_bootstrap, "procurement.v1")
        return any(
            t == "procurement.competition.awarded" and s == competition_id for t, s, _ in events
        )

    await eventually(awarded_on_the_broker, within=60, interval=0.5)
    events = [
        e for e in await read_events(kafka_bootstrap, "procurement.v1") if e[1] == competition_id
    ]
    types = [t for t, _, _ in events]
    assert types[0] == "procurement.competition.opened"
    assert types[-3:] == [
        "procurement.competition.closed",
        "procurement.competition.evaluated",
        "procurement.competition.awarded",
    ]
    awarded = events[-1][2]
    assert awarded["need_ref"] == raised.need_id and awarded["provider_id"] == "rb-1"
    assert awarded["kind"] == "individual"


async def _known(runtime: ServiceRuntime, provider_id: str) -> bool:
    async with runtime.db.session() as session:
        return await session.get(ProviderRow, provider_id) is not None


async def _exists(runtime: ServiceRuntime, competition_id: str) -> bool:
    async with runtime.db.session() as session:
        return await session.get(CompetitionRow, competition_id) is not None


async def _status_is(runtime: ServiceRuntime, competition_id: str, status: str) -> bool:
    async with runtime.db.session() as session:
        row = await session.get(CompetitionRow, competition_id)
    return row is not None and row.status == status


async def _running(handle) -> bool:  # type: ignore[no-untyped-def]
    try:
        await handle.describe()
    except Exception:
        return False
    return True
