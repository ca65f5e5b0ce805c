"""A service starting against a broker that lost its data puts its events back.

Each test starts its own Tansu (in memory, like `dps up`'s), so "a fresh broker" is
exactly what a restarted one looks like.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from dps import processes
from shared.bus import BrokerWatch
from shared.db import Database
from shared.infra_models import OutboxMessage, infra_registry, utcnow
from shared.settings import ServiceSettings, settings_for

pytestmark = pytest.mark.integration

TOPIC = "providers.v1"


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[str]:
    port = processes.free_port()
    broker = processes.tansu(port, tmp_path)
    broker.start()
    processes.wait_for_port(broker, port, timeout=20)
    yield f"127.0.0.1:{port}"
    broker.stop()


@pytest.fixture
async def outbox_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(infra_registry.metadata.create_all)
    yield db
    await db.dispose()


def settings(bootstrap: str) -> ServiceSettings:
    return settings_for("provider_registry", kafka_bootstrap=bootstrap)


async def add_row(db: Database, *, published: bool) -> None:
    async with db.transaction() as session:
        session.add(
            OutboxMessage(
                event_id=f"e-{published}",
                topic=TOPIC,
                event_type="provider.registered",
                key="p1",
                payload=b"{}",
                published_at=utcnow() if published else None,
            )
        )


async def unpublished(db: Database) -> int:
    async with db.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.published_at).is_(None))
        )
        return len(rows.all())


async def test_a_service_that_published_before_replays_on_a_fresh_broker(
    fresh_broker: str, outbox_db: Database
) -> None:
    await add_row(outbox_db, published=True)  # sent to a broker that has since gone
    watch = BrokerWatch(settings(fresh_broker), outbox_db, [TOPIC])
    assert await watch.start() == 1
    assert await unpublished(outbox_db) == 1  # queued for the relay again
    assert watch.losses == 1
    assert await watch.start() == 0  # the sentinel is back: the same broker, nothing lost


async def test_a_service_that_never_published_treats_a_fresh_broker_as_new(
    fresh_broker: str, outbox_db: Database
) -> None:
    await add_row(outbox_db, published=False)  # written, never sent: the relay sends it
    watch = BrokerWatch(settings(fresh_broker), outbox_db, [TOPIC])
    assert await watch.start() == 0
    assert watch.losses == 0
