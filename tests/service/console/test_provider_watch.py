"""The monitoring officer's provider page against the real provider register and
monitoring in-process, sharing FastStream's test broker: an inspection recorded in the
register reaches monitoring as providers.v1 events, as in production."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlmodel import select

from services.console.app import build_app
from services.console.routes.market import market_view
from services.monitoring.models import AlertRow, Incident, ProviderProfile, Visit
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from tests.harness import client_for, eventually, make_runtime
from tests.service.console.test_console import console_settings, sign_in
from tests.service.provider_registry.conftest import register


@pytest.fixture
async def market(
    database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[tuple[ServiceRuntime, ServiceRuntime]]:
    broker = KafkaBroker()
    registry = make_runtime(
        "provider_registry", database_url("registry"), tmp_path, shared_broker=broker
    )
    monitoring = make_runtime(
        "monitoring", database_url("monitoring"), tmp_path, shared_broker=broker
    )
    async with TestKafkaBroker(broker):
        await registry.start()
        await monitoring.start()
        yield registry, monitoring
        await monitoring.stop()
        await registry.stop()


async def _rows(runtime: ServiceRuntime, model: type) -> list:  # type: ignore[type-arg]
    async with runtime.db.session() as session:
        return list((await session.exec(select(model))).all())


async def inadequate_provider(
    registry: ServiceRuntime, monitoring: ServiceRuntime, tokens: dict[Role, str]
) -> str:
    async with client_for(registry, tokens[Role.COMMISSIONER]) as commissioner:
        provider_id = await register(commissioner)
        made = await commissioner.post(
            f"/providers/{provider_id}/inspections",
            json={"inspected_on": "2026-01-05", "overall": "inadequate"},
        )
        assert made.status_code == 201, made.text

    async def known() -> bool:
        return any(a.provider_id == provider_id for a in await _rows(monitoring, AlertRow))

    await eventually(known)
    assert [p.provider_id for p in await _rows(monitoring, ProviderProfile)] == [provider_id]
    return provider_id


def console_over(
    registry: ServiceRuntime, monitoring: ServiceRuntime, tmp_path: Path
) -> httpx.AsyncClient:
    settings = console_settings(tmp_path, provider_registry_url="http://registry")
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "provider_registry": httpx.ASGITransport(app=registry.build_app()),
        "monitoring": httpx.ASGITransport(app=monitoring.build_app()),
    }
    app = build_app(settings, transports)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def test_an_officer_sees_a_providers_file_and_records_a_visit_and_an_incident(
    market: tuple[ServiceRuntime, ServiceRuntime], tmp_path: Path, tokens: dict[Role, str]
) -> None:
    registry, monitoring = market
    provider_id = await inadequate_provider(registry, monitoring, tokens)
    page_path = f"/providers/{provider_id}/monitoring"
    async with console_over(registry, monitoring, tmp_path) as client:
        csrf = await sign_in(client, "monitoring_officer")
        assert page_path in (await client.get(f"/providers/{provider_id}")).text
        shown = await client.get(page_path)
        assert shown.status_code == 200
        assert "Inadequate, 5 January 2026" in shown.text  # scorecard's current Ofsted
        assert "critical: 1" in shown.text and "/alerts/" in shown.text
        # Placements is down here: only its section says so; the rest of the page shows.
        assert "Placements cannot be reached now" in shown.text
        assert 'id="rating-4" name="rating" type="radio" value="4"' in shown.text

        bad = await client.post(
            f"/providers/{provider_id}/visits",
            data={"csrf_token": csrf, "visited_on": "2999-01-01", "rating": "9"},
        )
        assert bad.status_code == 400
        assert 'href="#visited_on"' in bad.text and 'href="#rating"' in bad.text
        visit = await client.post(
            f"/providers/{provider_id}/visits",
            data={
                "csrf_token": csrf,
                "visited_on": "2026-02-01",
                "rating": "3",
                "findings": "Improvement plan under way",
            },
        )
        assert visit.status_code == 303 and visit.headers["location"].endswith("done=visits")
        [row] = await _rows(monitoring, Visit)
        assert (row.provider_id, row.rating, row.officer_id) == (provider_id, 3, "demo-officer")
        after = await client.get(visit.headers["location"])
        assert "The visit was recorded" in after.text and "Improvement plan under way" in after.text

        no_summary = await client.post(
            f"/providers/{provider_id}/incidents",
            data={"csrf_token": csrf, "category": "complaint", "severity": "low"},
        )
        assert no_summary.status_code == 400
        assert 'href="#summary"' in no_summary.text and 'href="#occurred_on"' in no_summary.text
        incident = await client.post(
            f"/providers/{provider_id}/incidents",
            data={
                "csrf_token": csrf,
                "category": "safeguarding",
                "severity": "high",
                "occurred_on": "2026-02-02",
                "summary": "Restraint not recorded",
            },
        )
        assert incident.status_code == 303
        [held] = await _rows(monitoring, Incident)
        assert (held.category, held.severity, held.placement_id) == ("safeguarding", "high", None)
        assert "Restraint not recorded" in (await client.get(page_path)).text

        assert (await client.get("/providers/nope/monitoring")).status_code == 404

        dashboard = await client.get("/market")
        assert dashboard.status_code == 200 and dashboard.text.count("<svg") == 3
        assert "Nothing to show" in dashboard.text  # no KPI return is missing yet
        # The inspection's alert, and any the visit and the incident raised under the rules.
        unresolved = [a for a in await _rows(monitoring, AlertRow) if a.status != "resolved"]
        assert f"{len(unresolved)} unresolved alert" in dashboard.text
        assert "across 1 provider;" in dashboard.text
        assert ">Inadequate</th>" in dashboard.text and ">Critical</th>" in dashboard.text
        assert ">Over 30 days</th>" in dashboard.text  # the severity-by-age table's head
    # A provider may not read monitoring's file of itself (or of another).
    async with client_for(monitoring, tokens[Role.PROVIDER]) as provider:
        assert (await provider.get(f"/providers/{provider_id}/file")).status_code == 403


def test_the_market_counts_alerts_by_severity_and_age_and_missing_kpi_returns() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    alerts = [
        {"severity": "critical", "raised_at": "2026-03-01T09:00:00+00:00", "provider_id": "a"},
        {
            "severity": "warning",
            "raised_at": "2026-02-25T09:00:00",  # stored naive in UTC (SQLite)
            "provider_id": "a",
            "evidence_kind": "kpi_return_missing",
        },
        {
            "severity": "warning",
            "raised_at": "2025-12-01T09:00:00+00:00",
            "provider_id": "b",
            "evidence_kind": "kpi_return_missing",
        },
    ]
    providers = [
        {"provider_id": "a", "name": "Oakfield", "ofsted_judgement": "good"},
        {"provider_id": "b", "name": "Birchwood", "ofsted_judgement": None},
    ]
    view = market_view(alerts, providers, now)
    assert [(b.label, b.text) for b in view["severity"].bars] == [
        ("Critical", "1"),
        ("Warning", "2"),
        ("Info", "0"),
    ]
    assert view["by_age"]["warning"] == {"1 to 7 days": 1, "Over 30 days": 1}
    assert view["by_age"]["critical"] == {"Under a day": 1}
    assert {b.label for b in view["missing"].bars} == {"Oakfield", "Birchwood"}
    assert view["missing_total"] == 2
    judged = {b.label: b.text for b in view["judgement"].bars}
    assert judged["Good"] == "1" and judged["Not known"] == "1" and judged["Inadequate"] == "0"
