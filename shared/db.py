"""Database access for one service: an async engine, sessions, and Alembic migrations.

SQLite (one file per service) is the embedded default; PostgreSQL is chosen by URL.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, ColumnElement, Dialect, Table, TextClause, any_, bindparam, event, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.files import private_file
from shared.logging import get_logger
from shared.sqlite_driver import OneTripDBAPI

log = get_logger(__name__)

# Run inside each write transaction of the current context just before it commits. A
# request with an Idempotency-Key records there that its change was committed
# (shared.idempotency), so a retry after a crash is never carried out a second time.
before_commit: ContextVar[Callable[[Database, AsyncSession], Awaitable[None]] | None] = ContextVar(
    "before_commit", default=None
)


def sync_url(url: str) -> str:
    """The same database through a synchronous driver, for Alembic."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite")
    elif parsed.drivername in {"postgresql+asyncpg", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def async_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while a consumer writes; NORMAL sync is durable in WAL mode
    # across process crashes (only an OS crash may lose the last commits).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# A SQLite process's one connection held this long is named in the log (every session
# of the process waits meanwhile): a statement takes milliseconds, a batch a fraction of
# a second.
LONG_HOLD_S = 10.0


POOL_SIZE = 10  # PostgreSQL connections a process keeps open
POOL_OVERFLOW = 10  # and may open beyond those under load


def _private_sqlite_file(url: str) -> None:
    """Create the database file 0600 before SQLite does (it would follow the umask);
    its journal and WAL files take the database file's mode."""
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        private_file(Path(database))


class NestedSessionError(RuntimeError):
    """A task opened a session while holding one of the same one-connection database."""


# (database, task) pairs holding a session; a task started inside one is not holding it.
_held_sessions: ContextVar[frozenset[tuple[int, int]]] = ContextVar(
    "held_sessions", default=frozenset()
)


def _is_file(url: str) -> bool:
    database = make_url(url).database
    return bool(database) and database != ":memory:" and "mode=memory" not in url


class Database:
    """The engine and session factory of one service's own database."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        connection_wait_s: float = 30.0,
        long_hold_s: float = LONG_HOLD_S,
    ) -> None:
        self.url = async_url(url)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        # The most connections this process may hold at once (0: SQLite, one, unreported).
        self.pool_capacity = 0 if self.is_sqlite else POOL_SIZE + POOL_OVERFLOW
        if not self.is_sqlite:
            kwargs.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_pre_ping=True)
        if self.is_sqlite:
            _private_sqlite_file(self.url)
            if _is_file(self.url):
                # One connection (so one aiosqlite thread) per process, which every session
                # takes in turn. SQLite writes one transaction at a time anyway; with a
                # connection per concurrent session, this process's writers wait for each
                # other in SQLite's busy handler (sleeps of up to 100 ms), and the threads'
                # hand-offs cost CPU (docs/performance.md, "One SQLite connection per
                # process"). No code holds a session while opening another, or across a
                # network call, so none waits on itself.
                kwargs.update(
                    poolclass=AsyncAdaptedQueuePool,
                    pool_size=1,
                    max_overflow=0,
                    pool_timeout=connection_wait_s,
                )
        self._one_connection = "poolclass" in kwargs
        self._holder = ConnectionHolder(make_url(self.url).database, long_hold_s)
        if make_url(self.url).get_driver_name() == "aiosqlite":
            kwargs["module"] = OneTripDBAPI()  # one thread trip per statement
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _tune_sqlite)
        if self._one_connection:
            self._holder.watch(self.engine)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction the caller commits (or it is rolled back)."""
        with self._held():
            async with self._sessions() as session:
                yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: everything inside commits together or not at all."""
        with self._held():
            async with self._sessions() as session, session.begin():
                yield session
                hook = before_commit.get()
                if hook is not None:
                    await hook(self, session)

    @contextmanager
    def _held(self) -> Iterator[None]:
        """Refuse a second session of a one-connection database in the same task: it
        would wait for the connection its own task holds (for the pool's 30 s)."""
        if not self._one_connection:
            yield
            return
        mine = (id(self), id(asyncio.current_task()))
        held = _held_sessions.get()
        if mine in held:
            raise NestedSessionError(
                "a session of this SQLite database is already open in this task, and the "
                "process has one connection: finish that session first or pass it down"
            )
        token = _held_sessions.set(held | {mine})
        try:
            yield
        except PoolTimeout:
            self._holder.report()
            raise
        finally:
            _held_sessions.reset(token)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def connections_in_use(self) -> int:
        """Connections checked out of the pool now (for dps_db_pool_in_use)."""
        pool = self.engine.sync_engine.pool
        checkedout: Callable[[], int] | None = getattr(pool, "checkedout", None)
        return checkedout() if checkedout is not None else 0

    async def dispose(self) -> None:
        await self.engine.dispose()


class ConnectionHolder:
    """Which task holds a one-connection database's connection, and since when.

    A hold past LONG_HOLD_S is logged while it lasts (`db.connection_held_long`), and a
    session that waits out the pool's timeout logs the holder before it fails
    (`db.connection_wait_timeout`): the holder's name, how long it has held the
    connection and the coroutines it is suspended in, which is what a long hold needs
    to be found (every waiter only shows where it waited).
    """

    def __init__(self, database: str | None, long_hold_s: float = LONG_HOLD_S) -> None:
        self.database = database
        self.long_hold_s = long_hold_s
        self.task: asyncio.Task[Any] | None = None
        self.since = 0.0
        self._alarm: asyncio.TimerHandle | None = None

    def watch(self, engine: AsyncEngine) -> None:
        pool = engine.sync_engine.pool
        event.listen(pool, "checkout", self._taken)
        event.listen(pool, "checkin", self._given_back)

    def _taken(self, *_args: Any) -> None:
        # Pool events run on the event loop's thread, inside the task that checks out.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # outside a loop (Alembic's synchronous engine is another)
            return
        self.task = asyncio.current_task()
        self.since = time.monotonic()
        self._alarm = loop.call_later(self.long_hold_s, self._held_long)

    def _given_back(self, *_args: Any) -> None:
        self.task = None
        if self._alarm is not None:
            self._alarm.cancel()
            self._alarm = None

    def _held_long(self) -> None:
        self._log("db.connection_held_long", "warning")
        self._alarm = asyncio.get_running_loop().call_later(self.long_hold_s, self._held_long)

    def report(self) -> None:
        self._log("db.connection_wait_timeout", "error")

    def _log(self, event_name: str, level: str) -> None:
        task = self.task
        getattr(log, level)(
            event_name,
            database=self.database,
            holder=task.get_name() if task is not None else None,
            held_s=round(time.monotonic() - self.since, 1) if task is not None else None,
            holder_awaiting=_suspended_at(task) if task is not None else None,
        )


def _suspended_at(task: asyncio.Task[Any]) -> list[str]:
    """Where a task is suspended, outermost first: each coroutine it awaits through, as
    file:line function, then what the innermost awaits (a future, say)."""
    where: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None and len(where) < 40:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
        if frame is None:
            where.append(f"awaiting {type(awaited).__name__}")
            break
        where.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
    return where


def one_of(session: AsyncSession, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values` for a batch's keys. On PostgreSQL it is `column = ANY(array)`,
    one parameter: psycopg converts a query with hundreds of placeholders in Python on
    every execution (uncached), which cost more than the query itself."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(list(values))  # type: ignore[no-any-return]


async def upsert(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], key: str
) -> None:
    """Insert rows, or update those whose `key` exists, in one statement (SQLite or
    PostgreSQL); the rows' keys must be distinct, and on PostgreSQL a column that is not
    JSON must take scalars. A hot path writes a batch's rows this way instead of through
    the ORM."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        names = tuple(rows[0])
        await session.execute(
            _recordset_upsert(table, names, key, dialect),
            {"rows": _json_rows(table, names, rows, dialect)},
        )
        return
    statement = sqlite.insert(table)
    updates = {name: statement.excluded[name] for name in rows[0] if name != key}
    await session.execute(
        statement.on_conflict_do_update(index_elements=[key], set_=updates), list(rows)
    )


@cache
def _recordset_upsert(
    table: Table, names: tuple[str, ...], key: str, dialect: Dialect
) -> TextClause:
    """The PostgreSQL upsert of rows given as one JSON array of objects: one statement
    and one parameter, where psycopg's executemany (or its text arrays) spent more CPU
    per row in Python than the server spent on it. A JSON column's value is reproduced
    exactly (PostgreSQL's json_populate_recordset), so it is stored as json.dumps wrote
    it, as SQLAlchemy's JSON type does."""
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names if n != key)
    return text(
        f"INSERT INTO {quote(table.name)} ({columns})"  # nosec B608: names from the table
        f" SELECT {columns} FROM json_populate_recordset(NULL::{quote(table.name)},"
        " CAST(:rows AS JSON))"
        f" ON CONFLICT ({quote(key)}) DO UPDATE SET {updates}"
    )


def _json_rows(
    table: Table, names: tuple[str, ...], rows: Sequence[dict[str, Any]], dialect: Dialect
) -> str:
    """The rows as a JSON array: each value through its column's bind processing, then
    in its JSON form (a JSON column's value as it is). Each distinct value of a column is
    converted once: a batch's rows share their write time and many of their dates."""
    scalars = [n for n in names if not isinstance(table.c[n].type, JSON)]
    forms: dict[str, dict[Any, Any]] = {n: {} for n in scalars}
    processors = {n: table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in scalars}
    converted = []
    for row in rows:
        row = dict(row)
        for name in scalars:
            value, seen, process = row[name], forms[name], processors[name]
            if process is None and (value is None or isinstance(value, str | int)):
                continue  # as it is in JSON
            if value not in seen:
                seen[value] = _json_scalar(process(value) if process else value)
            row[name] = seen[value]
        converted.append(row)
    return json.dumps(converted)


def _json_scalar(value: object) -> object:
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"no JSON form for {type(value).__name__}")


def migrate(url: str, migrations_dir: Path, revision: str = "head") -> None:
    """Apply a service's Alembic migrations (synchronously; run before serving)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, revision)
