"""aiosqlite with one thread hand-off per statement instead of four.

SQLAlchemy's aiosqlite adapter creates a cursor, executes, fetches and closes it as four
calls into aiosqlite's connection thread, each a round trip through a queue, the thread
and the event loop's self-pipe. On this project's reads that hand-off, not SQLite, was
most of a query's cost (about 0.35 ms of CPU per statement; docs/performance.md). This
adapter runs the same four steps as one function in that thread and keeps what they
return (rows, description, row count, last row id), so a statement costs one hop.

Everything else is SQLAlchemy's adapter unchanged: the connection, its transactions, its
execute lock, server-side cursors (`stream`), error translation. It relies on two
private parts of aiosqlite, `Connection._execute` (queue a call on its thread) and
`Connection._conn` (the sqlite3 connection, used only on that thread); aiosqlite is
pinned in constraints.txt, and tests/unit/shared/test_sqlite_driver.py checks them.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid


def _run(connection: sqlite3.Connection, operation: Any, parameters: Any, many: bool) -> Outcome:
    """On aiosqlite's thread: one statement from cursor to close."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs in one call on aiosqlite's thread."""

    __slots__ = ("_arraysize", "_outcome")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No aiosqlite cursor (that would be a hop of its own): the statement makes one.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._outcome: Outcome = (None, [], -1, None)
        self._arraysize = 1  # sqlite3's default, used by fetchmany()

    @property
    def description(self) -> Any:
        return self._outcome[0]

    @property
    def rowcount(self) -> int:
        return self._outcome[2]

    @property
    def lastrowid(self) -> Any:
        return self._outcome[3]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # nothing is open on the thread: the rows are already here

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._run(operation, seq_of_parameters, many=True)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            self._outcome = await connection._execute(
                _run, connection._conn, operation, parameters, many
            )
        self._rows = collections.deque(self._outcome[1])

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None  # sqlite3 ignores input sizes


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def _in_transaction(self) -> bool:
        """Whether SQLite has a transaction open. Every read session ends with a
        rollback (the pool's reset); with none open it would be a hop to do nothing.
        Read here, not on aiosqlite's thread: no statement of this connection is running
        (SQLAlchemy checks a connection out to one session, which awaits each statement),
        and SQLAlchemy opens file databases with check_same_thread=False."""
        raw: sqlite3.Connection | None = self._connection._connection
        if raw is None:
            return False  # closed: the base class would skip it too
        try:
            return raw.in_transaction
        except sqlite3.ProgrammingError:
            return True  # a connection bound to its thread: ask it the long way


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to give `create_async_engine(..., module=...)` for SQLite."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        # As SQLAlchemy's adapter connects (aiosqlite >= 0.22), with this cursor.
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # a connection left open must not hold up exit
        return OneHopConnection(self, await_(connection))


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
