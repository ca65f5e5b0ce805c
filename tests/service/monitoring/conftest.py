"""A monitoring runtime on FastStream's in-memory broker, and ways to feed it events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlmodel import func, select

from services.monitoring.models import AlertRow
from shared.envelope import Envelope
from shared.infra_models import OutboxMessage
from shared.runtime import ServiceRuntime
from tests.harness import make_runtime


@dataclass
class Monitoring:
    runtime: ServiceRuntime
    broker: KafkaBroker

    async def feed(self, topic: str, event: Envelope) -> None:
        """Deliver an event as the bus would (the test broker applies it before returning)."""
        await self.broker.publish(event.to_bytes(), topic, key=event.key)

    async def count(self, model: type, *where: object) -> int:
        async with self.runtime.db.session() as session:
            query = select(func.count()).select_from(model)
            for clause in where:
                query = query.where(clause)  # type: ignore[arg-type]
            return int((await session.exec(query)).one())

    async def alerts(self) -> list[AlertRow]:
        async with self.runtime.db.session() as session:
            return list((await session.exec(select(AlertRow))).all())

    async def outbox(self, event_type: str) -> list[OutboxMessage]:
        async with self.runtime.db.session() as session:
            rows = await session.exec(
                select(OutboxMessage).where(OutboxMessage.event_type == event_type)
            )
            return list(rows.all())


@pytest.fixture
async def monitoring(
    database_url: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Monitoring]:
    # No SMTP or webhook configured: deliveries are skipped, nothing leaves the test.
    monkeypatch.delenv("DPS_SMTP_HOST", raising=False)
    monkeypatch.delenv("DPS_WEBHOOK_URL", raising=False)
    # Tests drive delivery themselves (deliver_due); the background loop stays idle.
    monkeypatch.setenv("DPS_DELIVERY_POLL_S", "3600")
    broker = KafkaBroker()
    runtime = make_runtime("monitoring", database_url("monitoring"), tmp_path, shared_broker=broker)
    async with TestKafkaBroker(broker):
        await runtime.start()
        yield Monitoring(runtime, broker)
        await runtime.stop()
