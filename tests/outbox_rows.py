"""An outbox on its own (the infrastructure tables in a SQLite file) and its rows, for
the tests of the relay and the broker watch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlmodel import col, select

from shared.db import Database
from shared.infra_models import OutboxMessage, infra_registry, utcnow

TOPIC = "providers.v1"


@asynccontextmanager
async def outbox_database(directory: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{directory / 'outbox.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(infra_registry.metadata.create_all)
    try:
        yield db
    finally:
        await db.dispose()


def payload_of(event_id: str) -> bytes:
    return f'{{"id": "{event_id}"}}'.encode()


async def add_row(db: Database, event_id: str, *, published: bool = False) -> None:
    """One event of provider p1 on TOPIC, already sent to a broker or not."""
    async with db.transaction() as session:
        session.add(
            OutboxMessage(
                event_id=event_id,
                topic=TOPIC,
                event_type="provider.registered",
                key="p1",
                payload=payload_of(event_id),
                published_at=utcnow() if published else None,
            )
        )


async def unpublished(db: Database) -> int:
    async with db.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.published_at).is_(None))
        )
        return len(rows.all())
