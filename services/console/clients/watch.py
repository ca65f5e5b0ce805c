"""Monitoring's provider routes for the monitoring officer's provider page
(services/monitoring/api.py and provider_file_api.py)."""

from __future__ import annotations

from typing import Any

from services.console.clients.api import Api, segment

SERVICE = "monitoring"


async def scorecard(api: Api, provider_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/providers/{segment(provider_id)}/scorecard")
    return found


async def provider_file(api: Api, provider_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/providers/{segment(provider_id)}/file")
    return found


async def record(api: Api, what: str, body: dict[str, Any]) -> dict[str, Any]:
    """Record a visit, a KPI return or an incident (`what`: their collection's path)."""
    assert what in ("visits", "kpi-returns", "incidents")
    done: dict[str, Any] = await api.post(SERVICE, f"/{what}", body)
    return done


async def known_providers(api: Api) -> list[dict[str, Any]]:
    """Providers monitoring has heard of, with their latest Ofsted judgement."""
    found: list[dict[str, Any]] = await api.get(SERVICE, "/providers")
    return found


async def unresolved_alerts(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for status in ("open", "acknowledged"):
        found += await api.get(SERVICE, "/alerts", {"status": status, "limit": 1000})
    return found


async def suspension_grounds(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/suspension-grounds")
    return found


async def suspension_recommendations(api: Api, provider_id: str) -> list[dict[str, Any]]:
    """Monitoring's recommendations about the provider (rules' and officers'), newest first."""
    found: list[dict[str, Any]] = await api.get(
        SERVICE, f"/providers/{segment(provider_id)}/suspension-recommendations"
    )
    return found


async def recommend_suspension(
    api: Api, provider_id: str, grounds: list[str], reason: str
) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE,
        f"/providers/{segment(provider_id)}/suspension-recommendations",
        {"grounds": grounds, "reason": reason},
    )
    return done


async def kpi_returns_due(api: Api, provider_id: str) -> list[dict[str, Any]]:
    """The KPI returns the provider owes for the open term and the one before."""
    found: list[dict[str, Any]] = await api.get(
        SERVICE, f"/providers/{segment(provider_id)}/kpi-returns/due"
    )
    return found
