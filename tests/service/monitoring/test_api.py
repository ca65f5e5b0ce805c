"""Monitoring's HTTP API: evidence entry, rules, the alert inbox, scorecard, dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from services.monitoring import domain
from services.monitoring.models import AlertRow, KpiReturnRow, RuleVersion, Visit
from shared.auth import issue_token
from shared.contracts import placements_v1, providers_v1
from shared.contracts.common import Role
from shared.infra_models import AuditEntry, OutboxMessage
from tests.conftest import TEST_SECRET
from tests.harness import client_for
from tests.service.monitoring import events
from tests.service.monitoring.conftest import Monitoring


def kpi_body(placement_id: str = "pl-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "placement_id": placement_id,
        "term": "2025-autumn",
        "attendance_pct": 95.0,
        "exclusions": 0,
        "incidents": 0,
        "outcomes_progress": "met",
        "submitted_on": "2026-01-05",
    }
    return body | overrides


def incident_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider_id": "p-1",
        "category": "safeguarding",
        "severity": "high",
        "occurred_on": "2026-01-06",
        "summary": "Restraint used without a record; child ref KCC-EHC-000123.",
    }
    return body | overrides


VISIT = {"provider_id": "p-1", "visited_on": "2026-01-07", "rating": 2, "findings": "Calm."}

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/visits", VISIT),
    ("POST", "/kpi-returns", kpi_body()),
    ("POST", "/incidents", incident_body()),
    ("GET", "/rules", None),
    (
        "PATCH",
        "/rules/kpi-attendance-below-80",
        {"reason": "x", "condition": "attendance_pct < 75"},
    ),
    ("GET", "/alerts", None),
    ("POST", "/alerts/a-1/assign", {"officer_id": "o-1"}),
    ("POST", "/alerts/a-1/acknowledge", None),
    ("POST", "/alerts/a-1/resolve", {"outcome": "done"}),
    ("GET", "/providers/p-1/scorecard", None),
    ("GET", "/dashboard", None),
]


async def seed(monitoring: Monitoring) -> None:
    await monitoring.feed(providers_v1.TOPIC, events.registered("p-1"))
    await monitoring.feed(providers_v1.TOPIC, events.registered("p-2", urn=223456))
    await monitoring.feed(placements_v1.TOPIC, events.contract_created("pl-1", "p-1"))
    await monitoring.feed(placements_v1.TOPIC, events.contract_created("pl-2", "p-2"))


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_every_route_needs_a_token_and_a_role(
    monitoring: Monitoring, tokens, method: str, path: str, body: dict[str, Any] | None
) -> None:
    async with client_for(monitoring.runtime) as anonymous:
        response = await anonymous.request(method, path, json=body)
    assert response.status_code == 401
    forbidden = Role.COUNCIL_SYSTEM if path == "/kpi-returns" else Role.PROVIDER
    async with client_for(monitoring.runtime, tokens[forbidden]) as client:
        response = await client.request(method, path, json=body)
    assert response.status_code == 403, response.text


async def test_only_commissioners_and_admins_change_rules(monitoring: Monitoring, tokens) -> None:
    body = {"reason": "tighter", "condition": "attendance_pct < 75"}
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        response = await client.patch("/rules/kpi-attendance-below-80", json=body)
    assert response.status_code == 403


async def test_default_rules_are_seeded(monitoring: Monitoring, tokens) -> None:
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        rules = (await client.get("/rules")).json()
    ids = {r["rule_id"] for r in rules}
    assert {"ofsted-inadequate", "safeguarding-incident", "kpi-attendance-below-80"} <= ids
    assert len(rules) == 18 and all(r["version"] == 1 for r in rules)
    # The seeded rules are the shipped ones, source included (migrations 0005 and 0007).
    shipped = {r.rule_id: r.model_dump(mode="json") for r in domain.DEFAULT_RULES}
    assert {r["rule_id"]: r for r in rules} == shipped


async def test_rule_change_is_versioned_and_audited(monitoring: Monitoring, tokens) -> None:
    body = {"reason": "council policy 2026", "condition": "attendance_pct < 75"}
    async with client_for(monitoring.runtime, tokens[Role.COMMISSIONER]) as client:
        response = await client.patch("/rules/kpi-attendance-below-80", json=body)
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 2
        history = (await client.get("/rules", params={"history": "true"})).json()
    versions = [r for r in history if r["rule_id"] == "kpi-attendance-below-80"]
    assert [r["version"] for r in versions] == [1, 2]
    assert versions[1]["changed_by"] == "dev-commissioner"
    async with monitoring.runtime.db.session() as session:
        [audit] = (await session.exec(select(AuditEntry))).all()
    assert audit.action == "rule.changed" and audit.entity_id == "kpi-attendance-below-80"
    assert audit.details["before"]["condition"] == "attendance_pct < 80"
    assert audit.details["after"]["condition"] == "attendance_pct < 75"
    assert audit.details["reason"] == "council policy 2026"

    # The new threshold applies: 78% is no longer critical.
    await seed(monitoring)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        response = await client.post("/kpi-returns", json=kpi_body(attendance_pct=78))
    assert response.status_code == 201
    assert await monitoring.count(AlertRow, AlertRow.severity == "critical") == 0


@pytest.mark.parametrize(
    "condition",
    ["attendance_pct <", "__import__('os')", "attendance < 80", "attendance_pct < 'x'"],
)
async def test_bad_rule_condition_is_refused_naming_condition(
    monitoring: Monitoring, tokens, condition: str
) -> None:
    body = {"reason": "try", "condition": condition}
    async with client_for(monitoring.runtime, tokens[Role.COMMISSIONER]) as client:
        response = await client.patch("/rules/kpi-attendance-below-80", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "condition"
    assert await monitoring.count(RuleVersion) == len(domain.DEFAULT_RULES)
    assert await monitoring.count(AuditEntry) == 0


async def test_unknown_rule_is_404(monitoring: Monitoring, tokens) -> None:
    async with client_for(monitoring.runtime, tokens[Role.COMMISSIONER]) as client:
        response = await client.patch("/rules/nope", json={"reason": "x", "enabled": False})
    assert response.status_code == 404 and "nope" in response.text


async def test_visit_recorded_and_unknown_provider_refused(monitoring: Monitoring, tokens) -> None:
    await seed(monitoring)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        ok = await client.post("/visits", json=VISIT)
        unknown = await client.post("/visits", json=VISIT | {"provider_id": "p-404"})
        bad = await client.post("/visits", json=VISIT | {"rating": 5})
    assert ok.status_code == 201, ok.text
    assert unknown.status_code == 404 and "p-404" in unknown.text
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "rating"
    assert await monitoring.count(Visit) == 1
    assert len(await monitoring.outbox("quality.visit.recorded")) == 1


async def test_kpi_return_rules_and_bad_figures(monitoring: Monitoring, tokens) -> None:
    await seed(monitoring)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        low = await client.post("/kpi-returns", json=kpi_body(attendance_pct=75))
        out_of_range = await client.post("/kpi-returns", json=kpi_body(attendance_pct=120))
        negative = await client.post("/kpi-returns", json=kpi_body(exclusions=-1))
        bad_term = await client.post("/kpi-returns", json=kpi_body(term="autumn"))
        unknown = await client.post("/kpi-returns", json=kpi_body("pl-404"))
        first = await client.post(
            "/kpi-returns", json=kpi_body(term="2026-spring", outcomes_progress="not_met")
        )
        second = await client.post(
            "/kpi-returns", json=kpi_body(term="2026-summer", outcomes_progress="not_met")
        )
    assert low.status_code == 201 and len(low.json()["alerts_raised"]) == 1
    assert out_of_range.status_code == 422
    assert out_of_range.json()["detail"][0]["field"] == "attendance_pct"
    assert negative.status_code == 422 and bad_term.status_code == 422
    assert unknown.status_code == 404 and "pl-404" in unknown.text
    assert first.json()["alerts_raised"] == []
    assert len(second.json()["alerts_raised"]) == 1
    rules = sorted(a.rule_id for a in await monitoring.alerts())
    assert rules == ["kpi-attendance-below-80", "kpi-outcomes-not-met-twice"]
    assert await monitoring.count(KpiReturnRow) == 3
    assert len(await monitoring.outbox("quality.kpi_return.recorded")) == 3


async def test_provider_submits_kpi_returns_only_for_its_own_placements(
    monitoring: Monitoring,
) -> None:
    await seed(monitoring)
    own = issue_token(TEST_SECRET, Role.PROVIDER, provider_id="p-1")
    async with client_for(monitoring.runtime, own) as client:
        mine = await client.post("/kpi-returns", json=kpi_body("pl-1"))
        theirs = await client.post("/kpi-returns", json=kpi_body("pl-2"))
    assert mine.status_code == 201
    assert theirs.status_code == 403 and "pl-2" in theirs.text
    assert await monitoring.count(KpiReturnRow) == 1


async def test_safeguarding_incident_with_inadequate_ofsted_recommends_suspension(
    monitoring: Monitoring, tokens
) -> None:
    await seed(monitoring)
    await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", "inadequate"))
    assert await monitoring.outbox("quality.provider.suspension_recommended") == []
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        response = await client.post("/incidents", json=incident_body())
        named = await client.post("/incidents", json=incident_body(summary="Name: John Smith"))
        unknown = await client.post("/incidents", json=incident_body(provider_id="p-404"))
    assert response.status_code == 201, response.text
    assert named.status_code == 422 and named.json()["detail"][0]["field"] == "summary"
    assert unknown.status_code == 404
    [recommendation] = await monitoring.outbox("quality.provider.suspension_recommended")
    assert recommendation.key == "p-1"
    # The incident event carries no summary: safeguarding detail stays here.
    [incident] = await monitoring.outbox("quality.incident.recorded")
    assert b"Restraint" not in incident.payload
    # A second incident does not recommend again while the first recommendation is open.
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        await client.post("/incidents", json=incident_body(occurred_on="2026-01-08"))
    assert len(await monitoring.outbox("quality.provider.suspension_recommended")) == 1


async def test_alert_inbox_assign_acknowledge_resolve(monitoring: Monitoring, tokens) -> None:
    await seed(monitoring)
    await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", "inadequate"))
    await monitoring.feed(providers_v1.TOPIC, events.document_expiring("p-2", days=-1))
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        critical = (
            await client.get("/alerts", params={"status": "open", "severity": "critical"})
        ).json()
        assert [a["rule_id"] for a in critical] == ["ofsted-inadequate"]
        by_provider = (await client.get("/alerts", params={"provider_id": "p-2"})).json()
        assert [a["rule_id"] for a in by_provider] == ["document-expired"]
        bad_filter = await client.get("/alerts", params={"severity": "huge"})
        assert bad_filter.status_code == 422
        alert_id = critical[0]["alert_id"]

        early = await client.post(f"/alerts/{alert_id}/resolve", json={"outcome": "fixed"})
        assert early.status_code == 409 and "acknowledge" in early.text
        assigned = await client.post(f"/alerts/{alert_id}/assign", json={"officer_id": "o-7"})
        assert assigned.status_code == 200 and assigned.json()["assigned_to"] == "o-7"
        acknowledged = await client.post(f"/alerts/{alert_id}/acknowledge")
        assert acknowledged.json()["status"] == "acknowledged"
        again = await client.post(f"/alerts/{alert_id}/acknowledge")
        assert again.status_code == 409
        empty = await client.post(f"/alerts/{alert_id}/resolve", json={"outcome": " "})
        assert empty.status_code == 422
        resolved = await client.post(
            f"/alerts/{alert_id}/resolve", json={"outcome": "Action plan agreed with the school"}
        )
        assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
        closed = await client.post(f"/alerts/{alert_id}/resolve", json={"outcome": "again"})
        assert closed.status_code == 409 and "resolved" in closed.json()["detail"][0]["rule"]
        missing = await client.post("/alerts/nope/acknowledge")
        assert missing.status_code == 404
    types = {row.event_type for row in await _quality_events(monitoring)}
    assert {"quality.alert.acknowledged", "quality.alert.resolved"} <= types
    # Resolved: the same cause may alert again later.
    async with monitoring.runtime.db.session() as session:
        row = await session.get(AlertRow, alert_id)
    assert row is not None and row.open_key is None


async def _quality_events(monitoring: Monitoring) -> list[OutboxMessage]:
    async with monitoring.runtime.db.session() as session:
        rows = await session.exec(select(OutboxMessage).where(OutboxMessage.topic == "quality.v1"))
        return list(rows.all())


async def test_scorecard_and_dashboard_from_events(monitoring: Monitoring, tokens) -> None:
    await seed(monitoring)
    await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", "requires_improvement"))
    await monitoring.feed(placements_v1.TOPIC, events.spend_committed("pl-1", "p-1", "57000.00"))
    await monitoring.feed(
        placements_v1.TOPIC, events.spend_committed("pl-2", "p-2", "43000.00", on_contract=False)
    )
    async with client_for(monitoring.runtime, tokens[Role.COMMISSIONER]) as client:
        await client.post("/visits", json=VISIT)
        await client.post("/kpi-returns", json=kpi_body(attendance_pct=85))
        card = await client.get("/providers/p-1/scorecard", params={"as_of": "2026-01-12"})
        unknown = await client.get("/providers/p-404/scorecard")
        board = await client.get(
            "/dashboard", params={"financial_year": 2025, "as_of": "2026-01-12"}
        )
        bad_year = await client.get("/dashboard", params={"financial_year": 1800})
    assert card.status_code == 200, card.text
    scorecard = card.json()
    assert scorecard["current_ofsted"]["judgement"] == "requires_improvement"
    assert scorecard["mean_visit_rating"] == 2
    assert scorecard["kpi_by_term"][0]["mean_attendance_pct"] == 85
    assert scorecard["open_alerts_by_severity"]["warning"] == 2
    assert scorecard["active_placements"] == 1
    assert scorecard["weekly_spend"] == "1500.00"
    assert unknown.status_code == 404
    assert board.status_code == 200, board.text
    dashboard = board.json()
    assert dashboard["spend_by_year"][0]["spend"] == "100000.00"
    assert dashboard["on_contract_share"] == pytest.approx(0.57)
    assert dashboard["cost_per_placement_by_need"]["ASD"]["placements"] == 2
    assert dashboard["reviews_overdue"] == 2  # both first reviews were due 2026-01-01
    assert dashboard["open_alerts_by_severity"]["warning"] == 2
    assert bad_year.status_code == 422
