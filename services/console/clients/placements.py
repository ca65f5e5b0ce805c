"""Placements' API (services/placements/api.py)."""

from __future__ import annotations

from typing import Any

from services.console.clients.api import Api

SERVICE = "placements"


async def placements_at(api: Api, provider_id: str) -> dict[str, Any]:
    page: dict[str, Any] = await api.get(
        SERVICE, "/placements", {"provider_id": provider_id, "limit": 50}
    )
    return page


async def placement_of_award(api: Api, competition_id: str) -> dict[str, Any] | None:
    """The placement an individual call-off's award made, once its event has arrived."""
    page: dict[str, Any] = await api.get(
        SERVICE, "/placements", {"competition_ref": competition_id, "limit": 1}
    )
    return page["items"][0] if page["items"] else None
