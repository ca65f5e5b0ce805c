"""Rows staged to be written at commit (the outbox's, through `UnitOfWork.emit`): the
same columns the ORM wrote, in the order emitted, only if the transaction commits, and
once (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import ClassVar

import pytest
from sqlmodel import col, select

from shared.contracts.base import Event
from shared.db import Database, migrate
from shared.infra_models import OutboxMessage
from shared.unit_of_work import UnitOfWork, unit_of_work

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "monitoring" / "migrations"


class _Seen(Event):
    TOPIC: ClassVar[str] = "quality.v1"
    TYPE: ClassVar[str] = "x.seen"
    SUBJECT_FIELD: ClassVar[str] = "about"

    about: str


@pytest.fixture
async def db(database_url: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_url("staged"))
    migrate(database.url, MIGRATIONS)
    yield database
    await database.dispose()


async def _outbox(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        rows = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.seq)))
        return list(rows.all())


async def test_emitted_rows_are_written_at_commit_in_order(db: Database) -> None:
    async with unit_of_work(db, "dps/test", correlation_id="c-1") as uow:
        emitted = [uow.emit(_Seen(about=f"k{n % 2}")) for n in range(5)]
        # Not written yet: nothing reads them back before the commit.
        assert not (await uow.session.exec(select(OutboxMessage))).all()
    rows = await _outbox(db)
    assert [row.event_id for row in rows] == [envelope.id for envelope in emitted]
    for row, envelope in zip(rows, emitted, strict=True):
        assert (row.topic, row.event_type, row.key) == ("quality.v1", "x.seen", envelope.subject)
        assert row.payload == envelope.to_bytes()
        assert row.headers == envelope.kafka_headers()
        assert (row.published_at, row.attempts, row.partition) == (None, 0, None)
        assert row.created_at is not None


async def test_a_rolled_back_transaction_writes_nothing_even_if_the_session_goes_on(
    db: Database,
) -> None:
    async with db.session() as session:
        uow = UnitOfWork(session=session, source="dps/test")
        async with session.begin():
            uow.emit(_Seen(about="lost"))
            await session.rollback()
        async with session.begin():
            kept = uow.emit(_Seen(about="kept"))
        async with session.begin():
            pass  # a later commit writes nothing again
    assert [row.event_id for row in await _outbox(db)] == [kept.id]


async def test_a_failed_transaction_writes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with unit_of_work(db, "dps/test") as uow:
            uow.emit(_Seen(about="lost"))
            raise RuntimeError("the change failed")
    assert await _outbox(db) == []
