"""The one-hop aiosqlite adapter (shared.sqlite_driver) answers as SQLAlchemy's own does,
in one call on aiosqlite's thread per statement."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.db import Database
from shared.sqlite_driver import one_hop_dbapi

SCHEMA = "CREATE TABLE item (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, n INT)"


async def _engines(tmp_path: Path) -> tuple[AsyncEngine, AsyncEngine]:
    stock = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}")
    one_hop = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'one_hop.db'}", module=one_hop_dbapi()
    )
    for engine in (stock, one_hop):
        async with engine.begin() as conn:
            await conn.execute(text(SCHEMA))
    return stock, one_hop


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    stock, one_hop = await _engines(tmp_path)
    yield stock, one_hop
    await stock.dispose()
    await one_hop.dispose()


async def _story(engine: AsyncEngine) -> list[Any]:
    """Every kind of statement the services run, and what each answered."""
    seen: list[Any] = []
    async with engine.begin() as conn:
        result = await conn.execute(text("INSERT INTO item (name, n) VALUES ('a', 1)"))
        seen.append(("lastrowid", result.lastrowid, result.rowcount))
        result = await conn.execute(
            text("INSERT INTO item (name, n) VALUES (:name, :n)"),
            [{"name": f"b{i}", "n": i} for i in range(5)],
        )
        seen.append(("executemany rowcount", result.rowcount))
        returned = await conn.execute(
            text("INSERT INTO item (name, n) VALUES ('c', 9) RETURNING id, name")
        )
        seen.append(("returning", returned.all()))
        updated = await conn.execute(text("UPDATE item SET n = n + 1 WHERE n < 3"))
        seen.append(("update rowcount", updated.rowcount))
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT id, name, n FROM item ORDER BY id"))
        seen.append(("columns", list(result.keys())))
        seen.append(("first two", result.fetchmany(2)))
        seen.append(("rest", result.fetchall()))
        seen.append(("scalar", await conn.scalar(text("SELECT count(*) FROM item"))))
        seen.append(("empty", (await conn.execute(text("SELECT * FROM item WHERE 0"))).all()))
        streamed = await conn.stream(text("SELECT name FROM item ORDER BY id"))
        seen.append(("stream", [row async for row in streamed]))
    return seen


async def test_it_answers_every_kind_of_statement_as_the_stock_adapter_does(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    stock, one_hop = engines
    assert await _story(one_hop) == await _story(stock)


async def _after_failures(engine: AsyncEngine) -> list[Any]:
    seen: list[Any] = []
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO item (name, n) VALUES ('x', 1)"))
    with pytest.raises(sqlalchemy.exc.IntegrityError) as duplicate:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO item (name, n) VALUES ('y', 2)"))
            await conn.execute(text("INSERT INTO item (name, n) VALUES ('x', 3)"))
    seen.append(type(duplicate.value.orig).__name__)
    with pytest.raises(sqlalchemy.exc.OperationalError) as missing:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT * FROM nowhere"))
    seen.append(str(missing.value.orig))
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO item (name, n) VALUES ('z', 4)"))
        await conn.rollback()
    async with engine.connect() as conn:
        seen.append((await conn.execute(text("SELECT name FROM item ORDER BY id"))).all())
    return seen


async def test_failures_and_rollbacks_are_as_the_stock_adapters(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    stock, one_hop = engines
    seen = await _after_failures(one_hop)
    assert seen == await _after_failures(stock)
    assert seen[-1] == [("x",)]  # the failed and the rolled-back writes left nothing


def _counting_hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each call queued on aiosqlite's thread, by the function's name."""
    calls: list[str] = []
    queue: Callable[..., Any] = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await queue(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return calls


async def test_a_statement_is_one_hop_and_a_read_session_adds_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'hops.db'}")
    async with database.transaction() as session:
        await session.execute(text(SCHEMA))
    async with database.session() as session:
        await session.execute(text("SELECT 1"))  # the pool now holds a connection
    calls = _counting_hops(monkeypatch)
    async with database.session() as session:
        await session.execute(text("SELECT count(*) FROM item"))
        await session.execute(text("SELECT name FROM item"))
    read_hops = list(calls)
    calls.clear()
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO item (name, n) VALUES ('a', 1)"))
    write_hops = list(calls)
    await database.dispose()
    assert read_hops == ["_run", "_run"]  # no cursor, fetch or close hops; no empty rollback
    assert write_hops == ["_run", "commit"]


async def test_the_private_parts_of_aiosqlite_it_relies_on_are_there(tmp_path: Path) -> None:
    connection = await aiosqlite.connect(tmp_path / "x.db")
    try:
        assert await connection._execute(lambda: connection._conn.total_changes) == 0
    finally:
        await connection.close()
