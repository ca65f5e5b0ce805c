"""The officers' inbox read as plain columns answers what the ORM rows serialised as
list[AlertRow] answered: the same alerts, in the same order, every field alike, and
one audit row per alert about a placement."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import text
from sqlmodel import col, select

from services.monitoring import store
from services.monitoring.models import AlertRow
from shared.contracts.common import Role
from shared.infra_models import AuditEntry
from tests.harness import client_for
from tests.service.monitoring.conftest import Monitoring

STATUSES = ("open", "acknowledged", "resolved")


async def _seed(monitoring: Monitoring) -> None:
    rng = random.Random(20)
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    async with monitoring.runtime.db.session() as session:
        for index in range(120):
            status = STATUSES[index % 3]
            placement = f"pl-{index}" if index % 2 else None
            at = now - timedelta(minutes=rng.randint(0, 50_000), microseconds=index)
            session.add(
                AlertRow(
                    alert_id=f"a-{index:04d}",
                    dedupe_key=f"key-{index}",
                    open_key=None if status == "resolved" else f"key-{index}",
                    rule_id="review-overdue" if placement else "document-expired",
                    rule_version=1,
                    title="An alert",
                    severity=rng.choice(["low", "high", "critical"]),
                    target="placement" if placement else "provider",
                    target_id=placement or f"p-{index % 7}",
                    provider_id=f"p-{index % 7}",
                    placement_id=placement,
                    cause=f"cause {index}",
                    evidence_kind="review",
                    evidence_refs=[f"e-{index}", "e-x"],
                    raised_at=at,
                    status=status,
                    assigned_to="o-1" if status != "open" else None,
                    acknowledged_at=at + timedelta(hours=1) if status != "open" else None,
                    outcome="done" if status == "resolved" else None,
                )
            )
        await session.commit()


async def _as_rows_were(monitoring: Monitoring, **where: Any) -> list[dict[str, Any]]:
    """What the route answered when it returned ORM rows (list[AlertRow])."""
    query = select(AlertRow)
    for name, value in where.items():
        if name != "limit":
            query = query.where(getattr(AlertRow, name) == value)
    query = query.order_by(col(AlertRow.raised_at).desc()).limit(where.get("limit", 200))
    async with monitoring.runtime.db.session() as session:
        rows = list((await session.exec(query)).all())
    answer: list[dict[str, Any]] = TypeAdapter(list[AlertRow]).dump_python(rows, mode="json")
    return answer


async def test_inbox_answers_what_the_rows_answered(monitoring: Monitoring, tokens) -> None:
    await _seed(monitoring)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        for params in (
            {"status": "open"},
            {"status": "resolved", "limit": 7},
            {"severity": "critical"},
            {"provider_id": "p-3", "status": "acknowledged"},
            {},
        ):
            response = await client.get("/alerts", params=params)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            expected = await _as_rows_were(monitoring, **params)
            assert expected and response.json() == expected, params


async def test_inbox_audits_each_alert_about_a_placement(monitoring: Monitoring, tokens) -> None:
    await _seed(monitoring)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        found = (await client.get("/alerts", params={"status": "open"})).json()
    about_placements = sorted(a["alert_id"] for a in found if a["placement_id"])
    assert about_placements and len(about_placements) < len(found)
    async with monitoring.runtime.db.session() as session:
        audited = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "alert.read"))
        ).all()
    assert sorted(a.entity_id for a in audited) == about_placements


async def test_a_changed_alert_is_answered_as_changed(monitoring: Monitoring, tokens) -> None:
    """The inbox reuses the JSON of alerts it served before (store `_serialised`, keyed by
    the stored columns): after any column of an alert changes, even one only a later
    field shows, its answer is the changed row's."""
    await _seed(monitoring)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        first = (await client.get("/alerts")).json()
        assert (await client.get("/alerts")).json() == first  # reused alike
        async with monitoring.runtime.db.session() as session:
            rows = {
                row.alert_id: row
                for row in (
                    await session.exec(select(AlertRow).where(col(AlertRow.status) == "open"))
                ).all()
            }
            moved, appended, closed = (rows[key] for key in sorted(rows)[:3])
            moved.status, moved.assigned_to = "acknowledged", "o-2"
            appended.evidence_refs = [*appended.evidence_refs, "e-new"]
            closed.outcome = "closed by hand"
            session.add_all([moved, appended, closed])
            await session.commit()
        for params in ({}, {"status": "open"}, {"status": "acknowledged"}):
            answer = (await client.get("/alerts", params=params)).json()
            assert answer == await _as_rows_were(monitoring, **params), params
    changed = {a["alert_id"]: a for a in (await _as_rows_were(monitoring))}
    assert changed[moved.alert_id]["assigned_to"] == "o-2"
    assert changed[appended.alert_id]["evidence_refs"][-1] == "e-new"
    assert changed[closed.alert_id]["outcome"] == "closed by hand"


async def test_a_page_is_answered_again_while_no_alert_changed_and_each_read_is_audited(
    monitoring: Monitoring, tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(monitoring)
    reads = 0
    read_alerts = store.alerts

    async def counted(*args: Any, **kwargs: Any) -> list[store.InboxAlert]:
        nonlocal reads
        reads += 1
        return await read_alerts(*args, **kwargs)

    monkeypatch.setattr(store, "alerts", counted)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        first = (await client.get("/alerts", params={"status": "open"})).content
        again = (await client.get("/alerts", params={"status": "open"})).content
        assert (again, reads) == (first, 1)  # the kept page, its alerts not read again
        other = (await client.get("/alerts", params={"status": "resolved"})).content
        assert other != first and reads == 2  # another page is read
        await _sql(monitoring, "UPDATE alert SET outcome = 'noted' WHERE alert_id = 'a-0001'")
        assert (await client.get("/alerts", params={"status": "open"})).content == first
        assert reads == 3  # the version moved: read again (this alert is not open)
    about_placements = len([a for a in json.loads(first) if a["placement_id"]])
    async with monitoring.runtime.db.session() as session:
        audited = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "alert.read"))
        ).all()
    # every read is audited, kept page or not: three of the open page, one resolved
    resolved = len([a for a in json.loads(other) if a["placement_id"]])
    assert len(audited) == 3 * about_placements + resolved


async def test_every_change_to_an_alert_raises_the_inbox_version(monitoring: Monitoring) -> None:
    """Made by migration triggers, whoever writes: plain SQL here, as another process or
    a hand-made fix would."""
    await _seed(monitoring)
    db = monitoring.runtime.db
    version = await store._inbox_version(db)
    assert version is not None
    changes = (
        "UPDATE alert SET assigned_to = 'o-9' WHERE alert_id = 'a-0002'",
        "DELETE FROM alert WHERE alert_id = 'a-0003'",
        _copy_of("a-0004"),
    )
    for change in changes:
        await _sql(monitoring, change)
        moved = await store._inbox_version(db)
        assert moved is not None and moved[0] == version[0] and moved[1] > version[1], change
        version = moved


def _copy_of(alert_id: str) -> str:
    """An INSERT of a new alert copied from `alert_id`, in plain SQL."""
    names = [c.key for c in AlertRow.__table__.columns]  # type: ignore[attr-defined]
    made = {"alert_id": "'a-new'", "dedupe_key": "dedupe_key || '-new'", "open_key": "NULL"}
    chosen = ", ".join(made.get(name, name) for name in names)
    return (
        f"INSERT INTO alert ({', '.join(names)}) SELECT {chosen} FROM alert"
        f" WHERE alert_id = '{alert_id}'"
    )


async def _sql(monitoring: Monitoring, statement: str) -> None:
    async with monitoring.runtime.db.transaction() as session:
        await session.execute(text(statement))
