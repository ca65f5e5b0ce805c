"""SQLite through aiosqlite with one trip to its thread per statement.

aiosqlite runs each call on the connection's own thread, and SQLAlchemy's adapter makes
three or four such calls per statement (open a cursor, execute, fetch, close): each a
queue hand-off and a wake-up of the event loop, which under load cost more than the
statement. This adapter does all of them in one call, and skips the commit or rollback
of a connection that is in no transaction (a read, or a connection handed back to the
pool after its commit), where SQLite would do nothing either.

Passed to SQLAlchemy as the DBAPI module (`module=`) of an `sqlite+aiosqlite` engine;
everything else is SQLAlchemy's aiosqlite dialect. Server-side cursors (streamed
results) keep that dialect's own.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection, AsyncIODBAPIConnection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import EMPTY_DICT

T = TypeVar("T")

# A statement's outcome, read on aiosqlite's thread: description, rows, rowcount,
# lastrowid, and whether the connection is left in a transaction.
_Outcome = tuple[Any, Sequence[Any], int, int | None, bool]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = None if many else cursor.description
        rows = cursor.fetchall() if description else ()
        return description, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


def _in_transaction(
    connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T], begin: str
) -> T:
    if connection.in_transaction:  # a pooled connection is handed out with none open
        raise RuntimeError("a SQLite transaction is already open on this connection")
    connection.execute(begin)
    try:
        done = work(connection)
    except BaseException:
        connection.rollback()
        raise
    connection.commit()
    return done


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """Executes, fetches every row and closes in one call on aiosqlite's thread (the
    adapter's client-side cursor buffers all rows anyway)."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No aiosqlite cursor is opened (that would be a trip of its own).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # nothing open on the thread: the rows are here already

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._trip(operation, seq_of_parameters, many=True)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        async with adapted._execute_mutex:
            adapted._in_transaction = None  # unknown until the statement answers
            connection = self._connection
            outcome: _Outcome = await connection._execute(
                _run, connection._conn, operation, parameters, many
            )
            self._description, rows, self._rowcount, self._lastrowid, in_transaction = outcome
            adapted._in_transaction = in_transaction
        if self._description:
            self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """Knows, from each statement's answer, whether SQLite has a transaction open, so a
    commit or rollback with none open costs no trip (SQLite would do nothing)."""

    __slots__ = ("_in_transaction",)

    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: AsyncIODBAPIConnection) -> None:
        super().__init__(dbapi, connection)
        self._in_transaction: bool | None = False  # None: not known, ask SQLite

    @property
    def isolation_level(self) -> str | None:
        return AsyncAdapt_aiosqlite_connection.isolation_level.fget(self)  # type: ignore[attr-defined, no-any-return]

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._in_transaction = None  # setting it may commit
        AsyncAdapt_aiosqlite_connection.isolation_level.fset(self, value)  # type: ignore[attr-defined]

    def commit(self) -> None:
        self._end_transaction(super().commit)

    def rollback(self) -> None:
        self._end_transaction(super().rollback)

    def _end_transaction(self, end: Any) -> None:
        if self._in_transaction is False:
            return
        self._in_transaction = None
        end()
        self._in_transaction = False

    async def run_transaction(
        self, work: Callable[[sqlite3.Connection], T], *, write: bool = True
    ) -> T:
        """`work` in a transaction of its own, begun, run and committed (or rolled back)
        in one trip to aiosqlite's thread. A write transaction takes SQLite's one writer
        lock at once (BEGIN IMMEDIATE, waiting up to busy_timeout), so what `work` reads
        stays true until it commits; a read one (BEGIN) sees one snapshot throughout."""
        begin = "BEGIN IMMEDIATE" if write else "BEGIN"
        async with self._execute_mutex:
            self._in_transaction = None
            try:
                return await self._connection._execute(
                    _in_transaction, self._connection._conn, work, begin
                )
            finally:
                self._in_transaction = False


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def is_one_trip(engine: AsyncEngine) -> bool:
    """Whether `engine` runs SQLite through this module."""
    return isinstance(engine.dialect.loaded_dbapi, OneTripDBAPI)


async def one_trip_transaction(engine: AsyncEngine, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` as `OneTripConnection.run_transaction` (a write transaction) on a
    connection of `engine` (one for which `is_one_trip`)."""
    return await _one_trip(engine, work, write=True)


async def one_trip_read(engine: AsyncEngine, work: Callable[[sqlite3.Connection], T]) -> T:
    """As `one_trip_transaction`, in a read transaction: `work` only reads."""
    return await _one_trip(engine, work, write=False)


async def _one_trip(
    engine: AsyncEngine, work: Callable[[sqlite3.Connection], T], *, write: bool
) -> T:
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).dbapi_connection
        if not isinstance(raw, OneTripConnection):
            raise TypeError(f"{engine.url.drivername} connections are not one-trip SQLite")
        return await raw.run_transaction(work, write=write)
