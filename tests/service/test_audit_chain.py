"""The audit trail is append-only and tamper-evident, on SQLite and PostgreSQL.

The database refuses UPDATE and DELETE on audit_log; with the refusal removed (as an
attacker with the database password could), `verify` finds the changed and the deleted
row; replicas appending at the same time still make one unbroken chain.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from dps.services import definition_of
from shared import audit
from shared.db import Database, migrate
from shared.unit_of_work import Actor, audit_rows, unit_of_work

OFFICER = Actor(id="officer-jo", role="monitoring_officer")
DROP_TRIGGERS = {
    "sqlite": ["DROP TRIGGER audit_log_no_UPDATE", "DROP TRIGGER audit_log_no_DELETE"],
    "postgres": ["DROP TRIGGER audit_log_no_update_delete ON audit_log"],
}


@pytest.fixture
async def db(database_url: Callable[[str], str]) -> AsyncIterator[Database]:
    url = database_url("audit")
    migrate(url, definition_of("monitoring").migrations_dir)
    database = Database(url)
    yield database
    await database.dispose()


async def _write(db: Database, n: int, source: str = "dps/test") -> None:
    for i in range(n):
        async with unit_of_work(db, source, correlation_id=f"c-{source}-{i}") as uow:
            uow.audit(OFFICER, "placement.read", "placement", f"pl-{i}", child="PSN-x", n=i)


async def _append(db: Database, n: int, source: str = "dps/test") -> None:
    """As `_write`, through `audit.append` (a read's rows, committed on their own)."""
    for i in range(n):
        rows = audit_rows(
            OFFICER, "placement.read", "placement", [(f"pl-{i}", "PSN-x")], {"n": i}, f"c-{i}"
        )
        await audit.append(db, rows)


async def _execute(db: Database, *statements: str) -> None:
    async with db.transaction() as session:
        for statement in statements:
            await session.execute(text(statement))


async def test_a_fresh_chain_verifies(db: Database) -> None:
    await _write(db, 5)
    report = await audit.verify(db, page=2)  # pages join up
    assert report.intact and (report.rows, report.head_seq) == (5, 5)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2", "DELETE FROM audit_log"],
)
async def test_the_database_refuses_to_rewrite_the_trail(db: Database, statement: str) -> None:
    await _write(db, 3)
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
        await _execute(db, statement)
    assert (await audit.verify(db)).rows == 3


async def test_a_rolled_back_transaction_leaves_no_link(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with unit_of_work(db, "dps/test") as uow:
            uow.audit(OFFICER, "placement.read", "placement", "pl-x")
            raise RuntimeError("the route failed")
    await _write(db, 1)
    report = await audit.verify(db)
    assert report.intact and report.rows == 1


async def test_verify_finds_a_changed_and_a_deleted_row(db: Database, db_kind: str) -> None:
    await _write(db, 6)
    await _execute(db, *DROP_TRIGGERS[db_kind])  # what only the database owner can do
    await _execute(db, "UPDATE audit_log SET entity_id = 'pl-other' WHERE seq = 2")
    changed = await audit.verify(db)
    assert [(p["seq"], p["problem"]) for p in changed.problems] == [
        (2, "row_hash does not match the row's content")
    ]
    await _execute(db, "DELETE FROM audit_log WHERE seq = 4")
    deleted = await audit.verify(db)
    assert not deleted.intact and deleted.rows == 5
    assert {p["seq"] for p in deleted.problems} == {2, 5}
    assert any("rows are missing" in p["problem"] for p in deleted.problems)


async def test_replicas_appending_together_make_one_chain(
    database_url: Callable[[str], str], db_kind: str
) -> None:
    url = database_url("audit-replicas")
    migrate(url, definition_of("monitoring").migrations_dir)
    replicas = [Database(url) for _ in range(3)]
    try:
        # Each replica runs several writers at once, half of them appending reads' rows on
        # their own: 3 x 4 x 5 = 60 appends racing.
        writers = (_write, _append)
        await asyncio.gather(
            *(
                writers[w % 2](db, 5, f"dps/r{r}-{w}")
                for r, db in enumerate(replicas)
                for w in range(4)
            )
        )
        report = await audit.verify(replicas[0])
        assert report.intact, report.problems
        assert (report.rows, report.head_seq) == (60, 60)
    finally:
        for db in replicas:
            await db.dispose()


async def test_rows_from_before_the_chain_are_linked_by_the_migration(
    database_url: Callable[[str], str],
) -> None:
    url = database_url("audit-upgrade")
    migrations = definition_of("monitoring").migrations_dir
    migrate(url, migrations, "0009")  # the revision before 0010_audit_chain
    db = Database(url)
    try:
        for i in range(3):
            await _execute(
                db,
                "INSERT INTO audit_log (at, actor, role, action, entity, entity_id, details) "
                f"VALUES ('2026-01-0{i + 1} 10:00:00.123456+00:00', 'old', 'admin', 'x', 'y', "
                f"'{i}', '{{\"n\": {i}}}')",
            )
        migrate(url, migrations)
        await _write(db, 2)
        report = await audit.verify(db)
        assert report.intact and report.rows == 5, report.problems
    finally:
        await db.dispose()


async def test_rows_appended_on_their_own_are_stored_as_a_transaction_stores_them(
    db: Database,
) -> None:
    rows = audit_rows(
        OFFICER,
        "alert.read",
        "alert",
        [("al-1", "PSN-a"), ("al-2", None)],
        {"reason": 'case 4471 — naïve "quotes"', "n": [1, 2.5, None]},
        "corr-1",
    )
    async with db.transaction() as session:
        audit.stage(session.sync_session, [dict(row) for row in rows])
    await audit.append(db, [dict(row) for row in rows])

    async with db.session() as session:
        stored = (await session.execute(text("SELECT * FROM audit_log ORDER BY seq"))).all()
    chained = {"id", "seq", "prev_hash", "row_hash"}
    columns = [name for name in stored[0]._fields if name not in chained]
    as_staged = [tuple(getattr(row, name) for name in columns) for row in stored[:2]]
    as_appended = [tuple(getattr(row, name) for name in columns) for row in stored[2:]]
    assert len(stored) == 4 and as_appended == as_staged
    report = await audit.verify(db)
    assert report.intact and report.head_seq == 4, report.problems


async def test_rows_that_cannot_be_appended_leave_no_link_and_no_lock(db: Database) -> None:
    await _append(db, 1)
    unstorable = audit_rows(OFFICER, "placement.read", "placement", [("pl-x", None)], {}, None)
    unstorable[0]["actor"] = None  # no link can be made of it
    with pytest.raises(TypeError):
        await audit.append(db, unstorable)
    await asyncio.wait_for(_append(db, 2), timeout=10)  # the chain's lock was let go
    report = await audit.verify(db)
    assert report.intact and report.rows == 3, report.problems
