"""The provider portal's calls: procurement's provider reads (portal_api.py) and the
provider's own writes (applications, self-declarations, bids), all with the provider's
token, so the service narrows every answer to that provider."""

from __future__ import annotations

from typing import Any

from services.console.clients.api import Api, segment

SERVICE = "procurement"


async def invitations(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/portal/invitations")
    return found


async def applications(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/portal/applications")
    return found


async def declarations(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/portal/self-declarations")
    return found


async def schemes(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/portal/schemes")
    return found


async def scheme(api: Api, scheme_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/schemes/{segment(scheme_id)}")
    return found


async def apply(
    api: Api, scheme_id: str, categories: list[str], answers: dict[str, str]
) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE,
        f"/schemes/{segment(scheme_id)}/applications",
        {"requested_categories": categories, "answers": answers},
    )
    return done


async def declaration(api: Api, request_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/self-declarations/{segment(request_id)}")
    return found


async def declare(api: Api, request_id: str, declaration: dict[str, str]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/self-declarations/{segment(request_id)}/answer", {"declaration": declaration}
    )
    return done


async def competition(api: Api, competition_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/competitions/{segment(competition_id)}")
    return found


async def bid(api: Api, competition_id: str, body: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/competitions/{segment(competition_id)}/bids", body
    )
    return done
