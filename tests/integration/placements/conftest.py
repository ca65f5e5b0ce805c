"""Fixtures and helpers of the placements workflow tests (time-skipping Temporal dev
server, a migrated placements database, placements made straight through the domain)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from services.placements import commands, domain
from services.placements.models import NeedRow
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import PlacementSource
from shared.infra_models import OutboxMessage
from shared.runtime import ServiceRuntime
from shared.unit_of_work import unit_of_work
from tests.harness import make_runtime, time_skipping_server

HISTORIES = Path(__file__).parent / "histories"
QUEUE = "dps.placements.test"


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await time_skipping_server(skips_on_its_own=False)
    yield environment
    await environment.shutdown()


@pytest.fixture
async def runtime(
    database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    rt = make_runtime("placements", database_url("placements"), tmp_path)
    rt.migrate()
    yield rt
    await rt.db.dispose()


async def make_active_placement(
    rt: ServiceRuntime,
    today: date,
    *,
    term_days: int = 400,
    review_in_days: int = 50,
    notice_period_weeks: int = 12,
) -> str:
    placement_id = str(uuid.uuid4())
    award = domain.Award(
        child_ref="KCC-EHC-000900",
        provider_id="p-1",
        source=PlacementSource.DPS_AWARD,
        primary_need=NeedType.ASD,
        attendance=Attendance.DAY,
        awarded_on=today - timedelta(days=40),
        start_date=today - timedelta(days=30),
        term_end=today + timedelta(days=term_days),
        weekly_core_fee=Decimal("1500.00"),
        weeks_per_year=38,
        notice_period_weeks=notice_period_weeks,
        next_review_due=today + timedelta(days=review_in_days),
        scheme_ref="s-1",
        competition_ref=f"c-{placement_id[:8]}",
    )
    at = datetime.now(UTC)
    created = domain.create_placement(award, placement_id, "test", at)
    started = domain.start_placement(created, created.start_date, "test", at)
    async with unit_of_work(rt.db, rt.source) as uow:
        await commands.record_placement(uow, None, created)
        await commands.record_placement(uow, created, started)
    return placement_id


async def event_types(rt: ServiceRuntime, subject: str) -> list[str]:
    async with rt.db.session() as session:
        rows = await session.exec(
            select(OutboxMessage.event_type)
            .where(OutboxMessage.key == subject)
            .order_by(OutboxMessage.seq)  # type: ignore[arg-type]
        )
        return list(rows.all())


@pytest.fixture
async def placements(
    kafka_bootstrap: str, database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    """Placements on the real broker, as a council's systems reach it (own group)."""
    runtime = make_runtime(
        "placements",
        database_url("placements"),
        tmp_path,
        kafka=kafka_bootstrap,
        consumer_group=f"g-council-{tmp_path.name}",
    )
    await runtime.start()
    yield runtime
    await runtime.stop()


async def needs_of(runtime: ServiceRuntime, child: str) -> list[NeedRow]:
    async with runtime.db.session() as session:
        return list((await session.exec(select(NeedRow).where(NeedRow.child_ref == child))).all())
