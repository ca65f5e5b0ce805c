"""The one-trip aiosqlite adapter answers every statement as SQLAlchemy's own adapter
does (rows, counts, keys, errors, transactions), in one trip to aiosqlite's thread."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, exc, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.db import Database
from shared.sqlite_driver import one_trip_read

METADATA = MetaData()
THINGS = Table(
    "things",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(20), unique=True, nullable=False),
    Column("n", Integer, nullable=False),
)


async def _script(conn: AsyncConnection) -> list[Any]:
    """Statements of every shape, each one's answer as plain values."""
    seen: list[Any] = []
    one = await conn.execute(insert(THINGS).values(name="a", n=1))
    seen.append((one.rowcount, one.inserted_primary_key))
    many = await conn.execute(insert(THINGS), [{"name": f"m{i}", "n": i} for i in range(3)])
    seen.append(many.rowcount)
    returned = await conn.execute(
        insert(THINGS).values([{"name": "r1", "n": 7}, {"name": "r2", "n": 8}]).returning(THINGS)
    )
    seen.append(sorted(tuple(row) for row in returned))
    seen.append([tuple(row) for row in await conn.execute(select(THINGS).order_by(THINGS.c.id))])
    seen.append((await conn.execute(select(THINGS).where(THINGS.c.n > 100))).all())
    seen.append((await conn.execute(select(func.count()).select_from(THINGS))).scalar_one())
    first_two = await conn.execute(select(THINGS.c.name).order_by(THINGS.c.id))
    seen.append((first_two.fetchone(), first_two.fetchmany(2), first_two.fetchall()))
    updated = await conn.execute(THINGS.update().where(THINGS.c.n < 2).values(n=THINGS.c.n + 10))
    seen.append(updated.rowcount)
    deleted = await conn.execute(THINGS.delete().where(THINGS.c.name == "r2"))
    seen.append(deleted.rowcount)
    pragma = await conn.exec_driver_sql("PRAGMA table_info(things)")
    seen.append([tuple(row) for row in pragma])
    streamed = await conn.stream(select(THINGS.c.name).order_by(THINGS.c.id))
    seen.append([row async for row in streamed])
    return seen


async def _engine(url: str, module: Any | None) -> AsyncEngine:
    engine = create_async_engine(url, **({"module": module} if module else {}))
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    return engine


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    stock = await _engine(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}", None)
    ours = Database(f"sqlite+aiosqlite:///{tmp_path / 'ours.db'}").engine
    async with ours.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield stock, ours
    await stock.dispose()
    await ours.dispose()


async def test_every_statement_answers_as_with_the_stock_adapter(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    answers = []
    for engine in engines:
        async with engine.begin() as conn:
            answers.append(await _script(conn))
    stock, ours = answers
    assert ours == stock


async def test_errors_and_transactions_behave_as_with_the_stock_adapter(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    outcomes = []
    for engine in engines:
        async with engine.begin() as conn:
            await conn.execute(insert(THINGS).values(name="kept", n=1))
        with pytest.raises(exc.IntegrityError) as raised:
            async with engine.begin() as conn:
                await conn.execute(insert(THINGS).values(name="undone", n=2))
                await conn.execute(insert(THINGS).values(name="kept", n=3))  # unique
        async with engine.connect() as conn:  # a rollback after writing undoes them
            await conn.execute(insert(THINGS).values(name="rolled back", n=4))
            await conn.rollback()
            await conn.execute(select(THINGS))
            await conn.rollback()  # after a read: nothing to undo
        async with engine.connect() as conn:
            names = (await conn.execute(select(THINGS.c.name).order_by(THINGS.c.id))).all()
        outcomes.append((type(raised.value.orig), str(raised.value.orig), names))
    stock, ours = outcomes
    assert ours == stock
    assert ours[2] == [("kept",)]


async def test_a_statement_is_one_trip_and_a_commit_with_nothing_open_none(
    engines: tuple[AsyncEngine, AsyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stock, ours = engines
    trips: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with ours.connect() as conn:
        await conn.execute(select(THINGS))  # warm: the pool's connection is open
        await conn.commit()
        trips.clear()
        await conn.execute(select(THINGS))
        assert len(trips) == 1
        await conn.commit()  # a read opened no transaction: nothing to commit
        assert len(trips) == 1
        await conn.execute(insert(THINGS).values(name="x", n=1))
        await conn.commit()
        assert len(trips) == 3


# Long enough to be cancelled while it runs on aiosqlite's thread (a second or so).
SLOW = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000)"
    " SELECT count(*) FROM c"
)


async def test_a_transaction_cancelled_mid_statement_is_rolled_back_and_frees_the_database(
    tmp_path: Path,
) -> None:
    """A request cancelled (client gone, shutdown) while its statement runs on the
    thread: its rollback must still happen after that statement, not be skipped because
    the statement's answer never came, or the write lock would stay taken."""
    database = Database(f"sqlite:///{tmp_path / 'cancel.db'}")
    async with database.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    writing = asyncio.Event()

    async def cancelled_writer() -> None:
        async with database.transaction() as session:
            await session.execute(insert(THINGS).values(name="never", n=1))  # takes the lock
            writing.set()
            await session.execute(text(SLOW))

    task = asyncio.create_task(cancelled_writer())
    await writing.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    async with database.transaction() as session:
        await session.execute(insert(THINGS).values(name="after", n=2))
    async with database.session() as session:
        names = (await session.execute(select(THINGS.c.name))).scalars().all()
    await database.dispose()
    assert names == ["after"]


async def test_one_trip_reads_see_one_snapshot_and_leave_no_transaction_open(
    tmp_path: Path,
) -> None:
    """A page's reads in one trip (`one_trip_read`) all see the database as it was at
    their first read, though another process commits between them; afterwards nothing
    is held, so a writer goes straight on."""
    path = tmp_path / "snapshot.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    async with database.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
        await conn.execute(insert(THINGS).values(name="first", n=1))

    def reads(connection: sqlite3.Connection) -> tuple[int, int, bool]:
        before = connection.execute("SELECT count(*) FROM things").fetchone()[0]
        other = sqlite3.connect(path)  # another replica, committing meanwhile
        other.execute("INSERT INTO things (name, n) VALUES ('meanwhile', 2)")
        other.commit()
        other.close()
        after = connection.execute("SELECT count(*) FROM things").fetchone()[0]
        return before, after, connection.in_transaction

    assert await one_trip_read(database.engine, reads) == (1, 1, True)
    async with database.transaction() as session:
        await session.execute(insert(THINGS).values(name="after", n=3))
    async with database.session() as session:
        count = (await session.execute(select(func.count()).select_from(THINGS))).scalar_one()
    await database.dispose()
    assert count == 3
