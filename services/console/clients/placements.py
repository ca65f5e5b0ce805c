"""Placements' API (services/placements/api.py)."""

from __future__ import annotations

from typing import Any

import httpx

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


async def sen2(api: Api, year: int) -> dict[str, Any]:
    """The SEN2 placement detail for the census year, with the rules it breaks."""
    found: dict[str, Any] = await api.get(SERVICE, "/returns/sen2", {"year": year})
    return found


async def sen2_file(api: Api, year: int, format: str) -> httpx.Response:
    """The SEN2 return as the service gives it: the specification's XML, or JSON."""
    return await api.download(SERVICE, "/returns/sen2", {"year": year, "format": format})


async def transparency_contracts(api: Api, quarter: str) -> httpx.Response:
    """The Local Government Transparency Code's quarterly contracts list (CSV)."""
    return await api.download(SERVICE, "/returns/transparency-contracts.csv", {"quarter": quarter})
