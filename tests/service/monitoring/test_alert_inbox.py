"""The officers' inbox read as plain columns answers what the ORM rows serialised as
list[AlertRow] answered: the same alerts, in the same order, every field alike, and
one audit row per alert about a placement."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlmodel import col, select

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
