"""Budgets on the dashboard, the "no KPI return for a term" check, and competitions that
end with no suitable bid."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from services.monitoring.commands.alerts import raise_missing_kpi_alerts
from services.monitoring.models import AlertRow, Budget, CompetitionFact, EvidenceRecord
from shared.contracts import placements_v1, procurement_v1, providers_v1
from shared.contracts.common import Role
from shared.infra_models import AuditEntry
from tests.harness import client_for
from tests.service.monitoring import events
from tests.service.monitoring.conftest import Monitoring

# ------------------------------------------------------------------------ budgets


async def test_budget_is_set_audited_and_shown_against_spend(
    monitoring: Monitoring, tokens
) -> None:
    await monitoring.feed(placements_v1.TOPIC, events.spend_committed("pl-1", "p-1", "60000.00"))
    await monitoring.feed(
        placements_v1.TOPIC, events.spend_committed("pl-2", "p-1", "40000.00", on_contract=False)
    )
    async with client_for(monitoring.runtime, tokens[Role.COMMISSIONER]) as client:
        first = await client.put("/budgets/2025", json={"amount": "90000.00"})
        assert first.status_code == 200, first.text
        assert first.json()["label"] == "2025/26"
        second = await client.put(
            "/budgets/2025", json={"amount": "120000.00", "reason": "in-year growth"}
        )
        assert second.status_code == 200, second.text
        listed = (await client.get("/budgets")).json()
        dashboard = (
            await client.get("/dashboard", params={"financial_year": 2025, "as_of": "2026-01-10"})
        ).json()
    assert [(b["financial_year"], b["amount"]) for b in listed] == [(2025, "120000.00")]
    [year] = dashboard["spend_by_year"]
    assert year["financial_year"] == 2025
    assert float(year["spend"]) == 100000 and float(year["budget"]) == 120000
    assert float(year["variance"]) == -20000  # underspend
    assert dashboard["on_contract_share"] == pytest.approx(0.6)
    assert float(dashboard["cost_per_placement_by_need"]["ASD"]["cost_per_placement"]) == 50000
    async with monitoring.runtime.db.session() as session:
        audit = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "budget.set"))
        ).all()
    assert [(a.details["before"], a.details["after"]) for a in audit] == [
        (None, "90000.00"),
        ("90000.00", "120000.00"),
    ]
    assert audit[1].details["reason"] == "in-year growth"


async def test_a_year_without_budget_shows_no_variance(monitoring: Monitoring, tokens) -> None:
    await monitoring.feed(placements_v1.TOPIC, events.spend_committed("pl-1", "p-1", "1000.00"))
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        dashboard = (await client.get("/dashboard", params={"financial_year": 2025})).json()
    [year] = dashboard["spend_by_year"]
    assert year["budget"] is None and year["variance"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/budgets/2025", {"amount": "-1"}, "amount"),
        ("/budgets/2025", {"amount": "1.234"}, "amount"),
        ("/budgets/2025", {"amount": "NaN"}, "amount"),
        ("/budgets/2025", {}, "amount"),
        ("/budgets/1999", {"amount": "10"}, "financial_year"),
        ("/budgets/2025", {"amount": "10", "colour": "red"}, "colour"),
    ],
)
async def test_bad_budget_is_refused_with_a_reason(
    monitoring: Monitoring, tokens, path: str, body: dict[str, Any], field: str
) -> None:
    async with client_for(monitoring.runtime, tokens[Role.COMMISSIONER]) as client:
        response = await client.put(path, json=body)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert await monitoring.count(Budget) == 0
    assert await monitoring.count(AuditEntry) == 0


@pytest.mark.parametrize("role", [Role.MONITORING_OFFICER, Role.PROVIDER])
async def test_only_commissioners_set_budgets(monitoring: Monitoring, tokens, role: Role) -> None:
    async with client_for(monitoring.runtime, tokens[role]) as client:
        response = await client.put("/budgets/2025", json={"amount": "10"})
    assert response.status_code == 403
    assert await monitoring.count(Budget) == 0


async def test_ended_placement_owes_no_review(monitoring: Monitoring, tokens) -> None:
    await monitoring.feed(placements_v1.TOPIC, events.contract_created("pl-1", "p-1"))
    await monitoring.feed(placements_v1.TOPIC, events.contract_created("pl-2", "p-1"))
    ended = placements_v1.PlacementContractEnded(
        placement_id="pl-2",
        child_ref="KCC-EHC-000124",
        provider_id="p-1",
        ended_on=date(2025, 12, 19),
        reason="moved out of county",
    )
    await monitoring.feed(
        placements_v1.TOPIC,
        events.envelope(placements_v1.TOPIC, "placement.contract.ended", "pl-2", ended),
    )
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        dashboard = (await client.get("/dashboard", params={"as_of": "2026-01-10"})).json()
    assert dashboard["overdue_review_placements"] == ["pl-1"]


# ----------------------------------------------------------- no KPI return for a term


async def _placements(monitoring: Monitoring) -> None:
    await monitoring.feed(providers_v1.TOPIC, events.registered("p-1"))
    for placement_id in ("pl-1", "pl-2"):
        await monitoring.feed(placements_v1.TOPIC, events.contract_created(placement_id, "p-1"))


async def test_missing_kpi_return_raises_one_alert_per_placement_and_term(
    monitoring: Monitoring, tokens
) -> None:
    await _placements(monitoring)
    kpi = {
        "placement_id": "pl-1",
        "term": "2025-autumn",
        "attendance_pct": 96.0,
        "exclusions": 0,
        "incidents": 0,
        "outcomes_progress": "met",
        "submitted_on": "2026-01-05",
    }
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        assert (await client.post("/kpi-returns", json=kpi)).status_code == 201
        response = await client.post("/kpi-returns/check", json={"term": "2025-autumn"})
        assert response.status_code == 200, response.text
        assert response.json()["alerts_raised"] == 1
        # Re-running (an officer, a retried activity, a restarted workflow): nothing new.
        again = await client.post("/kpi-returns/check", json={"term": "2025-autumn"})
        assert again.json()["alerts_raised"] == 0
    [alert] = await monitoring.alerts()
    assert (alert.rule_id, alert.severity, alert.target_id) == (
        "kpi-return-missing",
        "warning",
        "pl-2",
    )
    assert alert.cause == "kpi-missing:2025-autumn"
    assert len(await monitoring.outbox("quality.alert.raised")) == 1

    # Resolved by an officer, the same term's gap is not raised again by the schedule.
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        await client.post(f"/alerts/{alert.alert_id}/acknowledge")
        await client.post(f"/alerts/{alert.alert_id}/resolve", json={"outcome": "chased"})
    assert await raise_missing_kpi_alerts(monitoring.runtime, "2025-autumn") == 0
    assert len(await monitoring.alerts()) == 1
    # A placement that started after the term owes nothing for it.
    assert await raise_missing_kpi_alerts(monitoring.runtime, "2025-spring") == 0


async def test_kpi_check_before_the_deadline_is_refused(monitoring: Monitoring, tokens) -> None:
    await _placements(monitoring)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        future = await client.post("/kpi-returns/check", json={"term": "2099-autumn"})
        bad = await client.post("/kpi-returns/check", json={"term": "2025-winter"})
    assert future.status_code == 409 and "2099-autumn" in future.text
    assert bad.status_code == 422 and "term" in bad.text
    assert await monitoring.alerts() == []
    assert await monitoring.count(EvidenceRecord, EvidenceRecord.kind == "kpi_return_missing") == 0


# ------------------------------------------------------- competition, no suitable bid


async def test_competition_with_no_tier_left_alerts_on_the_need(monitoring: Monitoring) -> None:
    await monitoring.feed(procurement_v1.TOPIC, events.competition_opened("c-1", "need-7"))
    await monitoring.feed(procurement_v1.TOPIC, events.competition_closed("c-1", bids=2))
    await monitoring.feed(
        procurement_v1.TOPIC, events.no_suitable_bid("c-1", next_action="reopen_lower_tier")
    )
    assert await monitoring.alerts() == []  # routine: the lower tier is consulted next
    await monitoring.feed(procurement_v1.TOPIC, events.no_suitable_bid("c-1"))
    [alert] = await monitoring.alerts()
    assert (alert.rule_id, alert.severity, alert.target, alert.target_id) == (
        "competition-no-suitable-bid",
        "warning",
        "placement",
        "need-7",
    )
    async with monitoring.runtime.db.session() as session:
        evidence = (
            await session.exec(
                select(EvidenceRecord).where(
                    EvidenceRecord.kind == "competition_without_suitable_bid"
                )
            )
        ).all()
        fact = await session.get(CompetitionFact, "c-1")
    assert fact is not None and fact.bids_received == 2
    assert {e.body["bids_received"] for e in evidence} == {2}


async def test_block_competition_without_suitable_bid_raises_nothing(
    monitoring: Monitoring,
) -> None:
    await monitoring.feed(procurement_v1.TOPIC, events.competition_opened("c-2", need_ref=None))
    await monitoring.feed(procurement_v1.TOPIC, events.no_suitable_bid("c-2"))
    assert await monitoring.alerts() == []
    assert await monitoring.count(AlertRow) == 0
