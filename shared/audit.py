"""The audit trail of one service database: append-only and hash-chained.

Every row is a link: it stores its position (`seq`), the previous link's hash and its
own sha256 over a canonical form of everything it says (`row_hash`). Changing a row
breaks its own hash; deleting one breaks the next row's `prev_hash` and leaves a gap in
`seq`. The database itself refuses UPDATE and DELETE on the table (triggers, migration
000N_audit_chain), so the application cannot rewrite history either.

Rows are staged on the session (`stage`) as plain column values and linked just before
the transaction commits (a `before_commit` hook), whoever opened the transaction: the unit
of work, the consumer, the ingest route. Linking takes a lock so that replicas writing at
the same time append one after the other: PostgreSQL's transaction-scoped advisory lock,
SQLite's writer lock (taken by a no-op UPDATE). The lock is held from linking to commit
only. A transaction's rows are linked in one pass and written by one executemany INSERT
(no ORM object per row: a list of 200 alerts read is 200 rows).

Rows that are all a transaction writes (a read's, `append`) are committed on their own;
on SQLite that is one trip to the database's thread: lock, tail, link, insert, commit.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import Dialect, Table, event, insert, text
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import col, select

from shared.db import Database
from shared.infra_models import AuditEntry
from shared.sqlite_driver import is_one_trip, one_trip_transaction

GENESIS = "0" * 64  # the prev_hash of the first link
# PostgreSQL advisory lock key of "appending to this database's audit chain" (the
# migration lock is 0x0D75_0001; any other 64-bit integer would do).
AUDIT_LOCK_KEY = 0x0D75_0002
_PENDING = "dps_audit_pending"


AUDIT_LOG: Table = AuditEntry.__table__  # type: ignore[attr-defined]

# One staged row: every column of audit_log but `id` (the database's), `seq`, `prev_hash`
# and `row_hash` (given by `link`).
Row = dict[str, Any]


def stage(session: Session, rows: Iterable[Row]) -> None:
    """Append `rows` to the chain, in order, when this session's transaction commits."""
    session.info.setdefault(_PENDING, []).extend(rows)


def _utc(at: datetime) -> datetime:
    # SQLite gives the stored time back naive; it was written as UTC.
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


# The v1 form is json.dumps(body, sort_keys=True, separators=(",", ":"),
# ensure_ascii=False) of the row's columns (tests/unit/shared/test_audit_canonical.py
# holds that definition and checks this against it). It is written out here, keys in
# sorted order, because building and encoding a dict per row was most of linking a
# list read's rows.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_string = json.encoder.encode_basestring  # a str as a JSON string, as that encoder does


def _at_text(at: datetime) -> str:
    return _utc(at).isoformat(timespec="microseconds")


def _nullable(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _canonical_v1(
    *,
    seq: int | None,
    prev_hash: str,
    at_text: str,
    actor: str,
    role: str,
    action: str,
    entity: str,
    entity_id: str,
    child_ref: str | None,
    details_json: str,
    correlation_id: str | None,
) -> bytes:
    return (
        f'{{"action":{_string(action)},"actor":{_string(actor)},'
        f'"at":"{at_text}",'
        f'"child_ref":{_nullable(child_ref)},"correlation_id":{_nullable(correlation_id)},'
        f'"details":{details_json},"entity":{_string(entity)},'
        f'"entity_id":{_string(entity_id)},"prev_hash":{_string(prev_hash)},'
        f'"role":{_string(role)},"seq":{"null" if seq is None else int(seq)}}}'
    ).encode()


def canonical_v1(row: AuditEntry) -> bytes:
    """The bytes a row's hash is taken over (version 1: never change it, add a v2).

    Sorted-key JSON of every column but `id` (the database's, not the writer's) and
    `row_hash` itself; times as UTC ISO 8601 with microseconds.
    """
    return _canonical_v1(
        seq=row.seq,
        prev_hash=row.prev_hash,
        at_text=_at_text(row.at),
        actor=row.actor,
        role=row.role,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        child_ref=row.child_ref,
        details_json=_CANONICAL_JSON.encode(row.details),
        correlation_id=row.correlation_id,
    )


def row_hash(row: AuditEntry) -> str:
    return hashlib.sha256(canonical_v1(row)).hexdigest()


def link(rows: Iterable[Row], last_seq: int, last_hash: str) -> tuple[int, str]:
    """Give staged `rows` their place after (last_seq, last_hash); return the new tail.

    A row's hash is `row_hash` of the AuditEntry it becomes."""
    details: object = None
    details_json = ""
    at: object = None
    at_text = ""
    for row in rows:
        last_seq += 1
        row["seq"], row["prev_hash"] = last_seq, last_hash
        if row["details"] is not details:  # the rows of one list read share theirs
            details = row["details"]
            details_json = _CANONICAL_JSON.encode(details)
        if row["at"] is not at:  # and their time
            at = row["at"]
            at_text = _at_text(row["at"])
        canonical = _canonical_v1(
            seq=last_seq,
            prev_hash=last_hash,
            at_text=at_text,
            actor=row["actor"],
            role=row["role"],
            action=row["action"],
            entity=row["entity"],
            entity_id=row["entity_id"],
            child_ref=row["child_ref"],
            details_json=details_json,
            correlation_id=row["correlation_id"],
        )
        row["row_hash"] = last_hash = hashlib.sha256(canonical).hexdigest()
    return last_seq, last_hash


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    else:
        # Any write statement makes SQLite take its one writer lock for the rest of the
        # transaction (waiting up to busy_timeout); this one changes no row.
        session.execute(text("UPDATE audit_log SET seq = seq WHERE 0 = 1"))


def tail(session: Session) -> tuple[int, str]:
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.row_hash).order_by(col(AuditEntry.seq).desc()).limit(1)
    ).first()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS)


@event.listens_for(Session, "before_commit")
def _append_staged(session: Session) -> None:
    staged: list[Row] = session.info.pop(_PENDING, [])
    if not staged:
        return
    session.flush()  # the transaction's own rows first: the lock is held only to link
    _lock_chain(session)
    link(staged, *tail(session))
    session.execute(insert(AUDIT_LOG), staged)


@event.listens_for(Session, "after_transaction_end")
def _forget_staged(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back transaction's rows are never appended by a later commit.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


async def append(db: Database, rows: list[Row]) -> None:
    """Commit `rows` to the end of the chain in a transaction of their own."""
    if is_one_trip(db.engine):
        insert_rows = _SqliteInsert.of(db.engine.dialect)
        await one_trip_transaction(db.engine, partial(_append_sqlite, insert_rows, rows))
        return
    async with db.transaction() as session:
        stage(session.sync_session, rows)


@dataclass(frozen=True)
class _SqliteInsert:
    """audit_log's INSERT as sqlite3 takes it, with each column's own conversion (the
    SQLAlchemy type's), so a row is stored exactly as the ORM session would store it."""

    sql: str
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    @staticmethod
    @cache
    def of(dialect: Dialect) -> _SqliteInsert:
        names = [c.name for c in AUDIT_LOG.columns if c.name != "id"]
        compiled = insert(AUDIT_LOG).compile(dialect=dialect, column_keys=names)
        order = compiled.positiontup or []  # the `?` placeholders' columns, in order
        types = {c.name: c.type.dialect_impl(dialect) for c in AUDIT_LOG.columns}
        return _SqliteInsert(
            compiled.string,
            tuple((name, types[name].bind_processor(dialect)) for name in order),
        )

    def parameters(self, rows: Iterable[Row]) -> list[tuple[Any, ...]]:
        # The rows of one read share their time and details: each converted once.
        converted: dict[str, tuple[Any, Any]] = {}
        return [
            tuple(self._value(row, name, convert, converted) for name, convert in self.columns)
            for row in rows
        ]

    @staticmethod
    def _value(
        row: Row,
        name: str,
        convert: Callable[[Any], Any] | None,
        converted: dict[str, tuple[Any, Any]],
    ) -> Any:
        value = row[name]
        if convert is None:
            return value
        last = converted.get(name)
        if last is None or last[0] is not value:
            last = converted[name] = (value, convert(value))
        return last[1]


_SQLITE_TAIL = "SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1"


def _append_sqlite(
    insert_rows: _SqliteInsert, rows: list[Row], connection: sqlite3.Connection
) -> None:
    # On the database's thread, inside the writer lock (BEGIN IMMEDIATE).
    last = connection.execute(_SQLITE_TAIL).fetchone()
    link(rows, *((int(last[0]), str(last[1])) if last else (0, GENESIS)))
    connection.executemany(insert_rows.sql, insert_rows.parameters(rows))


# --- verification ---------------------------------------------------------------------------


@dataclass
class ChainReport:
    """What verifying a chain found: rows checked, the head, and every break."""

    rows: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


MAX_PROBLEMS = 100  # a report names the first breaks, not a million of them


def check(rows: Iterable[AuditEntry], report: ChainReport | None = None) -> ChainReport:
    """Walk rows in `seq` order (continuing `report`) and report every link that breaks."""
    report = report or ChainReport()
    for row in rows:
        report.rows += 1
        problems = []
        if row.seq != report.head_seq + 1:
            problems.append(f"seq {row.seq} follows {report.head_seq}: rows are missing")
        if row.prev_hash != report.head_hash:
            problems.append("prev_hash is not the previous row's hash")
        if row.row_hash != row_hash(row):
            problems.append("row_hash does not match the row's content")
        for problem in problems:
            if len(report.problems) < MAX_PROBLEMS:
                report.problems.append({"seq": row.seq, "id": row.id, "problem": problem})
        report.head_seq, report.head_hash = int(row.seq or 0), row.row_hash
    return report


async def verify(db: Database, page: int = 1000) -> ChainReport:
    """Check a database's whole chain, reading it a page at a time in `seq` order."""
    report = ChainReport()
    async with db.session() as session:
        while True:
            statement = (
                select(AuditEntry)
                .where(col(AuditEntry.seq) > report.head_seq)
                .order_by(col(AuditEntry.seq))
                .limit(page)
            )
            batch = list((await session.exec(statement)).all())
            if not batch:
                return report
            check(batch, report)
            session.expunge_all()  # a long chain is walked in constant memory
