"""The provider register's API (services/provider_registry/api.py)."""

from __future__ import annotations

from typing import Any

from services.console.clients.api import Api, segment

SERVICE = "provider_registry"


async def providers(
    api: Api, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if status:
        params["status"] = status
    page: dict[str, Any] = await api.get(SERVICE, "/providers", params)
    return page


async def provider(api: Api, provider_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/providers/{segment(provider_id)}")
    return found


async def inspections(api: Api, provider_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(
        SERVICE, f"/providers/{segment(provider_id)}/inspections"
    )
    return found


async def recommendations(
    api: Api, *, provider_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Suspension recommendations (the commissioner's to decide), oldest first."""
    params = {k: v for k, v in (("provider_id", provider_id), ("status", status)) if v}
    found: list[dict[str, Any]] = await api.get(SERVICE, "/recommendations", params)
    return found


async def decide_recommendation(
    api: Api, recommendation_id: str, decision: str, reason: str
) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE,
        f"/recommendations/{segment(recommendation_id)}/decision",
        {"decision": decision, "reason": reason},
    )
    return done


async def status_changes(api: Api, provider_id: str) -> list[dict[str, Any]]:
    """The provider's status history with the council's reasons (a provider: its own)."""
    found: list[dict[str, Any]] = await api.get(
        SERVICE, f"/providers/{segment(provider_id)}/status-changes"
    )
    return found
