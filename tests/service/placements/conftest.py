"""Placements on SQLite/PostgreSQL with FastStream's in-memory test broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlmodel import col, func, select

from services.placements.models import NeedRow, PlacementRow
from shared.envelope import Envelope
from shared.infra_models import DeadLetter, OutboxMessage
from shared.runtime import ServiceRuntime
from tests.harness import eventually, make_runtime
from tests.service.placements import builders


class Placements:
    """The runtime plus the few things every test does with it."""

    def __init__(self, runtime: ServiceRuntime, broker: KafkaBroker) -> None:
        self.runtime = runtime
        self.broker = broker

    async def publish(self, topic: str, env: Envelope) -> None:
        await self.broker.publish(env.to_bytes(), topic, key=env.subject.encode())

    async def count(self, model: type, *where: Any) -> int:
        async with self.runtime.db.session() as session:
            query = select(func.count()).select_from(model)
            for clause in where:
                query = query.where(clause)
            return int((await session.exec(query)).one())

    async def events(self, event_type: str) -> list[OutboxMessage]:
        async with self.runtime.db.session() as session:
            rows = await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.event_type == event_type)
                .order_by(col(OutboxMessage.seq))  # written order (PostgreSQL gives none)
            )
            return list(rows.all())

    async def dead_letters(self) -> list[DeadLetter]:
        async with self.runtime.db.session() as session:
            return list((await session.exec(select(DeadLetter))).all())

    async def wait_dead_letters(self, n: int) -> list[DeadLetter]:
        async def enough() -> bool:
            return len(await self.dead_letters()) >= n

        await eventually(enough)
        return await self.dead_letters()

    async def request_need(self, child_ref: str = "KCC-EHC-000123", **overrides: Any) -> str:
        env = builders.placement_requested(child_ref, **overrides)
        await self.publish("ehc.plans.v1", env)
        async with self.runtime.db.session() as session:

            async def raised() -> bool:
                rows = await session.exec(select(NeedRow).where(NeedRow.source_event_id == env.id))
                return rows.first() is not None

            await eventually(raised)
            row = (
                await session.exec(select(NeedRow).where(NeedRow.source_event_id == env.id))
            ).one()
        return row.need_id

    async def award(self, need_id: str | None, **kwargs: Any) -> Envelope:
        env = builders.awarded(need_id, **kwargs)
        await self.publish("procurement.v1", env)
        return env

    async def placement_for(self, competition_id: str) -> PlacementRow:
        async def made() -> bool:
            return (
                await self.count(PlacementRow, PlacementRow.competition_ref == competition_id) == 1
            )

        await eventually(made)
        async with self.runtime.db.session() as session:
            rows = await session.exec(
                select(PlacementRow).where(PlacementRow.competition_ref == competition_id)
            )
            return rows.one()

    async def active_placement(
        self, child_ref: str = "KCC-EHC-000123", review_in_days: int = 20, **award: Any
    ) -> PlacementRow:
        today = datetime.now(UTC).date()
        need_id = await self.request_need(
            child_ref,
            ehc_plan={
                "issued_on": (today - timedelta(days=300)).isoformat(),
                "next_review_due": (today + timedelta(days=review_in_days)).isoformat(),
            },
        )
        env = await self.award(need_id, start_date=today, **award)
        return await self.placement_for(env.data["competition_id"])


@pytest.fixture
async def placements(
    database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Placements]:
    broker = KafkaBroker()
    runtime = make_runtime(
        "placements",
        database_url("placements"),
        tmp_path,
        shared_broker=broker,
        consumer_retry_backoff_s=0.01,
    )
    async with TestKafkaBroker(broker):
        await runtime.start()
        yield Placements(runtime, broker)
        await runtime.stop()
