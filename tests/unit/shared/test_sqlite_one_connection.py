"""A SQLite service database is one connection per process, taken by one session at a
time: concurrent writers queue in the process instead of sleeping in SQLite's busy
handler, and a task that opens a second session while holding one is told at once
instead of waiting on itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from structlog.testing import capture_logs

from shared.db import Database, NestedSessionError


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE t (n INTEGER)"))
    yield database
    await database.dispose()


async def test_sessions_take_the_one_connection_in_turn(db: Database) -> None:
    order: list[str] = []
    writing = asyncio.Event()

    async def writer(name: str, hold: float) -> None:
        async with db.transaction() as session:
            # The connection is taken by the session's first statement.
            await session.execute(text("INSERT INTO t VALUES (1)"))
            order.append(f"{name} in")
            writing.set()
            await asyncio.sleep(hold)  # the transaction stays open meanwhile
            order.append(f"{name} out")

    async def reader() -> None:
        async with db.session() as session:
            seen = (await session.execute(text("SELECT count(*) FROM t"))).scalar()
            order.append(f"read {seen}")

    first = asyncio.create_task(writer("a", 0.2))
    await writing.wait()
    await asyncio.gather(writer("b", 0), reader(), first)
    # Each session ran whole before the next began, a reader too (with a connection
    # each it would have read at once, beside the open transaction).
    assert order == ["a in", "a out", "b in", "b out", "read 2"]


async def test_a_second_session_in_the_same_task_is_refused_at_once(db: Database) -> None:
    async with db.session():
        for nested in (db.session, db.transaction):
            with pytest.raises(NestedSessionError, match="already open in this task"):
                async with asyncio.timeout(1), nested():
                    pass
    async with db.session() as session:  # the refusals held nothing
        assert (await session.execute(text("SELECT 1"))).scalar() == 1


async def test_a_task_started_inside_a_session_opens_its_own_after_it(db: Database) -> None:
    async def later() -> int:
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO t VALUES (2)"))
            return 2

    async with db.transaction() as session:
        await session.execute(text("INSERT INTO t VALUES (1)"))
        task = asyncio.create_task(later())  # as after-commit work is
    assert await task == 2
    async with db.session() as session:
        assert (await session.execute(text("SELECT sum(n) FROM t"))).scalar() == 3


def test_only_a_sqlite_file_is_one_connection(tmp_path: Path) -> None:
    assert Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}").engine.pool.size() == 1
    postgres = Database("postgresql+psycopg://u@127.0.0.1:1/x")  # never connects
    assert postgres.engine.pool.size() > 1


async def test_a_wait_that_times_out_names_the_holder_and_where_it_is(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'held.db'}", connection_wait_s=0.2)
    holding, release = asyncio.Event(), asyncio.Event()

    async def keeps_the_connection() -> None:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            holding.set()
            await release.wait()  # e.g. a network call inside a session

    holder = asyncio.create_task(keeps_the_connection(), name="slow-holder")
    await holding.wait()
    try:
        with capture_logs() as logs, pytest.raises(PoolTimeout):
            async with db.session() as session:
                await session.execute(text("SELECT 2"))
    finally:
        release.set()
        await holder
    [report] = [e for e in logs if e["event"] == "db.connection_wait_timeout"]
    assert report["holder"] == "slow-holder"
    assert report["held_s"] >= 0.2
    assert any("keeps_the_connection" in step for step in report["holder_awaiting"])
    *coroutines, innermost = report["holder_awaiting"]
    assert coroutines[-1].endswith(" wait") and "asyncio/locks.py" in coroutines[-1]
    assert innermost == "awaiting FutureIter"  # the event's future
    async with db.session() as session:  # given back: the next session takes it at once
        assert (await session.execute(text("SELECT 3"))).scalar() == 3
    await db.dispose()


async def test_a_long_hold_is_logged_while_it_lasts(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'long.db'}", long_hold_s=0.1)
    with capture_logs() as logs:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            await asyncio.sleep(0.25)  # two alarms' worth
        async with db.session() as session:  # a short hold: nothing logged
            await session.execute(text("SELECT 2"))
        await asyncio.sleep(0.15)
    held = [e for e in logs if e["event"] == "db.connection_held_long"]
    assert len(held) == 2
    assert held[0]["held_s"] >= 0.1 and held[1]["held_s"] >= 0.2
    assert held[0]["holder"] == asyncio.current_task().get_name()  # type: ignore[union-attr]
    assert any("test_a_long_hold_is_logged" in step for step in held[0]["holder_awaiting"])
    await db.dispose()
