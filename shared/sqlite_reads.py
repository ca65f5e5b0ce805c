"""The reads of one page in one trip to SQLite's thread.

A page a person waits on (a placement with its histories) is several small reads. Through
a session each is its own trip to aiosqlite's thread (a queue hand-off, a thread wake-up
and a wake-up of the event loop, about 70 µs of CPU on a 2-core machine) and its own
pass through SQLAlchemy's ORM, which together cost more than SQLite's work. Here a
page's reads run together on that thread, in one read transaction (so they see one
snapshot, which separate statements outside a transaction do not), and each column's
value is converted by its own SQLAlchemy type, as a session would convert it.

SQLite through `shared.sqlite_driver` only (`is_one_trip`); a caller keeps its session
path for PostgreSQL, where a statement is a round trip over the network anyway.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.sqlite_driver import one_trip_read

T = TypeVar("T")
Convert = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    parameters: tuple[str, ...]  # the names of the `?` placeholders, in order
    defaults: Mapping[str, Any]
    columns: tuple[str, ...]
    converters: tuple[Convert, ...]  # per column: its type's result processor, if any


class OneTripSelect:
    """A Core select, compiled once for SQLite, whose rows come back as dicts of
    converted values (column name: value)."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None

    def compiled(self, dialect: Dialect) -> _Compiled:
        if self._compiled is None:  # every SQLite engine of a process converts alike
            compiled = self.statement.compile(dialect=dialect)
            columns = list(self.statement.selected_columns)
            self._compiled = _Compiled(
                sql=compiled.string,
                parameters=tuple(str(name) for name in compiled.positiontup or ()),
                defaults=compiled.params,  # values the statement carries (an OFFSET's 0)
                columns=tuple(str(c.key) for c in columns),
                converters=tuple(
                    c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
                ),
            )
        return self._compiled

    def rows(
        self, connection: sqlite3.Connection, dialect: Dialect, values: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Each row as a dict; run on SQLite's thread (inside `one_trip_reads`)."""
        names = self.compiled(dialect).columns
        return [
            dict(zip(names, row, strict=True)) for row in self.tuples(connection, dialect, values)
        ]

    def tuples(
        self, connection: sqlite3.Connection, dialect: Dialect, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Each row as a tuple, in the select's column order; as `rows`."""
        done = self.compiled(dialect)
        given = [values[p] if p in values else done.defaults[p] for p in done.parameters]
        fetched = connection.execute(done.sql, given).fetchall()
        if not any(done.converters):
            return fetched
        converters = done.converters
        return [
            tuple(
                value if convert is None else convert(value)  # None too, as SQLAlchemy does
                for convert, value in zip(converters, row, strict=True)
            )
            for row in fetched
        ]


async def one_trip_reads(
    engine: AsyncEngine, work: Callable[[sqlite3.Connection, Dialect], T]
) -> T:
    """Run `work` (reads, typically `OneTripSelect.rows`) in one read transaction, in one
    trip to the thread of a SQLite engine for which `is_one_trip`."""
    dialect = engine.dialect
    return await one_trip_read(engine, lambda connection: work(connection, dialect))
