"""The batch writes of the EHC ingest path (the inbox claim, the plans' upsert) store
exactly what the SQLAlchemy statements they replaced stored, on SQLite and PostgreSQL:
each is run both ways on the same database and the stored values compared as the
database holds them (text of every column, and on SQLite its storage class)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, delete, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from services.placements.app import definition
from services.placements.models import ChildPlanRow
from shared import consumer
from shared.db import Database, migrate, upsert
from shared.envelope import Envelope
from shared.infra_models import InboxEntry

PLANS: Table = ChildPlanRow.__table__  # type: ignore[attr-defined]
INBOX: Table = InboxEntry.__table__  # type: ignore[attr-defined]
AT = datetime(2026, 12, 6, 14, 30, 1, 123456, tzinfo=UTC)


def plan(child_ref: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "child_ref": child_ref,
        "la_code": "886",
        "date_of_birth": date(2014, 5, 1),
        "year_group": 7,
        "primary_need": "ASD",
        "secondary_needs": ["SLCN", "SpLD"],
        "attendance": "day",
        "postcode_district": "ME14",
        "issued_on": date(2026, 1, 12),
        "next_review_due": date(2026, 11, 2),
        "last_reviewed_on": None,
        "ceased_on": None,
        "field_times": {
            "primary_need": "2026-01-12T09:30:00+00:00",
            "la_code": "2026-01-12T09:30:00.000001+00:00",
        },
        "updated_at": AT,
    }
    return row | changes


FIRST = [
    plan("KCC-EHC-000001"),
    plan("KCC-EHC-000002", year_group=None, la_code=None, secondary_needs=[], field_times={}),
    plan("KCC-EHC-00000é", postcode_district="TN1", secondary_needs=['é "q" \\']),
]
SECOND = [  # updates two of them, adds one
    plan("KCC-EHC-000001", ceased_on=date(2026, 12, 1), primary_need=None, attendance=None),
    plan("KCC-EHC-000002", year_group=8, last_reviewed_on=date(2026, 10, 30)),
    plan("KCC-EHC-000004", updated_at=datetime(2026, 12, 6, 15, 0, tzinfo=UTC)),
]


async def upsert_as_before(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], key: str
) -> None:
    """shared.db.upsert as it was: one INSERT ... ON CONFLICT per row (executemany)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    updates = {name: statement.excluded[name] for name in rows[0] if name != key}
    await session.execute(
        statement.on_conflict_do_update(index_elements=[key], set_=updates), list(rows)
    )


async def claim_as_before(
    session: AsyncSession, topic: str, envelopes: Sequence[Envelope]
) -> set[str]:
    """shared.consumer.claim_events as it was: a multi-row VALUES."""
    rows: dict[str, dict[str, Any]] = {}
    for envelope in envelopes:
        rows.setdefault(
            envelope.id,
            {
                "event_id": envelope.id,
                "topic": topic,
                "event_type": envelope.type,
                "applied_at": AT,
            },
        )
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(INBOX)
        .values(list(rows.values()))
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(INBOX.c.event_id)
    )
    return set((await session.execute(statement)).scalars())


async def stored(db: Database, table: Table, key: str) -> list[tuple[Any, ...]]:
    """Every row as the database holds it, in key order."""
    if db.is_sqlite:
        columns = ", ".join(f"typeof({c.name}), quote({c.name})" for c in table.c)
    else:
        columns = ", ".join(f"CAST({c.name} AS TEXT)" for c in table.c)
    async with db.session() as session:
        query = text(f"SELECT {columns} FROM {table.name} ORDER BY {key}")
        return [tuple(row) for row in await session.execute(query)]


@pytest.fixture
async def db(database_url: Callable[[str], str], tmp_path: Path) -> Any:
    url = database_url("placements")
    migrate(url, definition.migrations_dir)
    database = Database(url)
    yield database
    await database.dispose()


async def test_the_plans_upsert_stores_what_the_per_row_upsert_stored(db: Database) -> None:
    async with db.transaction() as session:
        await upsert_as_before(session, PLANS, FIRST, "child_ref")
        await upsert_as_before(session, PLANS, SECOND, "child_ref")
    before = await stored(db, PLANS, "child_ref")
    async with db.transaction() as session:
        await session.execute(delete(PLANS))
    async with db.transaction() as session:
        await upsert(session, PLANS, FIRST, "child_ref")
        await upsert(session, PLANS, SECOND, "child_ref")
    assert await stored(db, PLANS, "child_ref") == before
    assert len(before) == 4


def envelope(event_id: str, event_type: str = "ehc.plan.issued") -> Envelope:
    return Envelope(id=event_id, type=event_type, source="council/886", subject="KCC-EHC-000001")


async def test_the_inbox_claim_stores_and_answers_what_the_multi_row_insert_did(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer, "utcnow", lambda: AT)
    held = [envelope("e-1")]
    batch = [
        envelope("e-1"),  # claimed before
        envelope("e-2"),
        envelope("e-2", "ehc.plan.amended"),  # repeated in the batch: the first is kept
        envelope('évènement "3"'),
        envelope("e-4", "ehc.placement.requested"),
    ]
    answers = []
    for claim in (claim_as_before, consumer.claim_events):
        async with db.transaction() as session:
            await session.execute(delete(INBOX))
        async with db.transaction() as session:
            await claim(session, "ehc.plans.v1", held)
        async with db.transaction() as session:
            claimed = await claim(session, "ehc.plans.v1", batch)
        answers.append((claimed, await stored(db, INBOX, "event_id")))
    assert answers[0][0] == {"e-2", 'évènement "3"', "e-4"}
    assert answers[1] == answers[0]
