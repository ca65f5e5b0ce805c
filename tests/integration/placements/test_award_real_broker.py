"""From ehc.placement.requested through an award to an active contract with its first
review scheduled and its lifecycle workflow running, over the real broker and Temporal."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlmodel import select

from services.placements.models import NeedRow, PlacementRow, ReviewRow
from services.placements.workflow_types import workflow_id
from shared.contracts.common import Role
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime
from tests.harness import client_for, eventually, make_runtime
from tests.service.placements import builders

pytestmark = pytest.mark.integration


@pytest.fixture
async def placements(
    kafka_bootstrap: str, temporal_address: str, database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    runtime = make_runtime(
        "placements",
        database_url("placements"),
        tmp_path,
        kafka=kafka_bootstrap,
        temporal=temporal_address,
        consumer_group=f"g-placements-{tmp_path.name}",
    )
    await runtime.start()
    yield runtime
    await runtime.stop()


async def publish(bootstrap: str, topic: str, env: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, env.to_bytes(), key=env.subject.encode())
    finally:
        await producer.stop()


async def first_event(
    bootstrap: str, topic: str, event_type: str, subject_field: str, value: str
) -> dict:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        deadline = datetime.now(UTC).timestamp() + 30
        while datetime.now(UTC).timestamp() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    doc = json.loads(record.value)
                    if doc["type"] == event_type and doc["data"].get(subject_field) == value:
                        return dict(doc)
        raise AssertionError(f"no {event_type} for {value} on {topic}")
    finally:
        await consumer.stop()


async def test_request_to_active_contract_over_real_broker(
    placements: ServiceRuntime, kafka_bootstrap: str, tokens
) -> None:
    child = f"KCC-EHC-{datetime.now(UTC).strftime('%H%M%S%f')[:10]}"
    request = builders.placement_requested(child)
    await publish(kafka_bootstrap, "ehc.plans.v1", request)

    # placement.need.raised carries no child reference (UK GDPR Art. 5(1)(c)): the need
    # is found by the request that raised it.
    async def need_held() -> bool:
        async with placements.db.session() as session:
            rows = await session.exec(select(NeedRow).where(NeedRow.source_event_id == request.id))
            return rows.first() is not None

    await eventually(need_held)
    async with placements.db.session() as session:
        need_row = (
            await session.exec(select(NeedRow).where(NeedRow.source_event_id == request.id))
        ).one()
    raised = await first_event(
        kafka_bootstrap, "placements.v1", "placement.need.raised", "need_id", need_row.need_id
    )
    need_id = raised["data"]["need_id"]
    assert raised["data"].get("child_ref") is None

    # Procurement ran its call-off; we publish its award ourselves.
    award = builders.awarded(need_id, start_date=datetime.now(UTC).date())
    await publish(kafka_bootstrap, "procurement.v1", award)
    started = await first_event(
        kafka_bootstrap, "placements.v1", "placement.contract.started", "child_ref", child
    )
    placement_id = started["data"]["placement_id"]
    scheduled = await first_event(
        kafka_bootstrap, "placements.v1", "placement.review.scheduled", "placement_id", placement_id
    )
    assert scheduled["data"]["due_on"]

    async with placements.db.session() as session:
        row = await session.get(PlacementRow, placement_id)
        reviews = (
            await session.exec(select(ReviewRow).where(ReviewRow.placement_id == placement_id))
        ).all()
    assert row is not None and row.status == "active"
    assert len(reviews) == 1 and reviews[0].outcome is None

    assert placements.temporal is not None
    handle = placements.temporal.get_workflow_handle(workflow_id(placement_id))

    async def running() -> bool:
        try:
            description = await handle.describe()
        except Exception:
            return False
        return description.status is not None and description.status.name == "RUNNING"

    await eventually(running, within=30)

    async def marked() -> bool:
        async with placements.db.session() as session:
            current = await session.get(PlacementRow, placement_id)
            return current is not None and current.workflow_started

    await eventually(marked)
    async with client_for(placements, tokens[Role.COMMISSIONER]) as client:
        view = (await client.get(f"/placements/{placement_id}")).json()
    assert (
        view["status"] == "active" and view["reviews"][0]["due_on"] == scheduled["data"]["due_on"]
    )
    await handle.terminate("test over")


async def test_sweep_starts_workflows_for_placements_that_lack_one(
    placements: ServiceRuntime,
) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from services.placements import commands, domain
    from services.placements.clocks import sweep_once
    from shared.contracts.common import Attendance, NeedType
    from shared.contracts.placements_v1 import PlacementSource
    from shared.unit_of_work import unit_of_work

    today = datetime.now(UTC).date()
    award = domain.Award(
        child_ref="KCC-EHC-SWEEP1",
        provider_id="p-1",
        source=PlacementSource.SPOT,
        primary_need=NeedType.ASD,
        attendance=Attendance.DAY,
        awarded_on=today,
        start_date=today + timedelta(days=10),
        term_end=today + timedelta(days=400),
        weekly_core_fee=Decimal("1000.00"),
        weeks_per_year=38,
        notice_period_weeks=4,
        next_review_due=today + timedelta(days=100),
    )
    placement_id = str(uuid.uuid4())  # the Temporal server outlives each test
    placement = domain.create_placement(award, placement_id, "test", datetime.now(UTC))
    async with unit_of_work(placements.db, placements.source) as uow:
        await commands.record_placement(uow, None, placement)
    # The runtime's own background sweep may get there first; either way it is started.
    await sweep_once(placements)
    assert placements.temporal is not None
    handle = placements.temporal.get_workflow_handle(workflow_id(placement_id))
    description = await handle.describe()
    assert description.status is not None and description.status.name == "RUNNING"
    # Marked started: the sweep will not start it again. (Asserting the sweep finds nothing
    # at all raced with placements other tests' awards were still creating on the broker.)
    async with placements.db.session() as session:
        row = await session.get(PlacementRow, placement_id)
    assert row is not None and row.workflow_started
    await handle.terminate("test over")
