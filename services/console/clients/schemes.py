"""Procurement's schemes and the application clock (api.py, scheme_list_api.py)."""

from __future__ import annotations

from typing import Any

from services.console.clients import ApiRefused, ServiceUnavailable
from services.console.clients.api import Api, segment
from services.console.regimes import regime_by_scheme

SERVICE = "procurement"


async def schemes(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/schemes")
    return found


async def scheme(api: Api, scheme_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/schemes/{segment(scheme_id)}")
    return found


async def members(api: Api, scheme_id: str) -> list[dict[str, Any]]:
    found: dict[str, Any] = await api.get(SERVICE, f"/schemes/{segment(scheme_id)}/members")
    listed: list[dict[str, Any]] = found["members"]
    return listed


async def extend(api: Api, application_id: str, reason: str) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/applications/{segment(application_id)}/extension", {"reason": reason}
    )
    return done


async def create(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(SERVICE, "/schemes", body)
    return done


async def amend(api: Api, scheme_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PATCH /schemes/{id}: a draft freely; an open scheme as the law allows."""
    done: dict[str, Any] = await api.patch(SERVICE, f"/schemes/{segment(scheme_id)}", body)
    return done


async def regimes(api: Api) -> dict[str, str]:
    """Every scheme's regime code by its id and its reference; empty when procurement
    cannot say now (a placements page still shows, saying the regime is not known)."""
    try:
        return regime_by_scheme(await schemes(api))
    except (ServiceUnavailable, ApiRefused):
        return {}


async def regime_of(api: Api, scheme_ref: str | None) -> str | None:
    """The regime code of the scheme a placement names (by id, as an award does, or by
    reference, as an imported placement may); None when there is none or unknown now."""
    if not scheme_ref:
        return None
    return (await regimes(api)).get(scheme_ref) or None
