"""Placements' casework routes for the console's placement and spend pages
(services/placements/api.py), and monitoring's budgets (services/monitoring/api.py).

Placements audits every read of a placement; the reason a person gives for looking goes
with the read as `X-Access-Reason` (shared/audit_read.py), only when they gave one."""

from __future__ import annotations

from typing import Any

from services.console.clients.api import Api, segment

SERVICE = "placements"
CSV_BATCH = 500  # placements' largest page
CSV_MAX = 20_000  # a council's whole caseload is a few thousand; a bound all the same


def _reason(reason: str) -> dict[str, str] | None:
    return {"X-Access-Reason": reason} if reason else None


async def search(
    api: Api, filters: dict[str, str], *, limit: int, offset: int, reason: str = ""
) -> dict[str, Any]:
    params: dict[str, Any] = {k: v for k, v in filters.items() if v}
    found: dict[str, Any] = await api.get(
        SERVICE, "/placements", {**params, "limit": limit, "offset": offset}, _reason(reason)
    )
    return found


async def search_all(api: Api, filters: dict[str, str], reason: str = "") -> list[dict[str, Any]]:
    """Every placement the filters match (for the CSV), a batch at a time."""
    items: list[dict[str, Any]] = []
    while len(items) < CSV_MAX:
        batch = await search(api, filters, limit=CSV_BATCH, offset=len(items), reason=reason)
        items.extend(batch["items"])
        if not batch["items"] or len(items) >= batch["total"]:
            break
    return items


async def placement(api: Api, placement_id: str, reason: str = "") -> dict[str, Any]:
    found: dict[str, Any] = await api.get(
        SERVICE, f"/placements/{segment(placement_id)}", None, _reason(reason)
    )
    return found


async def record_review(
    api: Api, placement_id: str, review_id: str, outcome: str
) -> dict[str, Any]:
    path = f"/placements/{segment(placement_id)}/reviews/{segment(review_id)}/outcome"
    done: dict[str, Any] = await api.post(SERVICE, path, {"outcome": outcome})
    return done


async def decide_uplift(api: Api, uplift_id: str, body: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(SERVICE, f"/uplifts/{segment(uplift_id)}/decision", body)
    return done


async def end(api: Api, placement_id: str, body: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(SERVICE, f"/placements/{segment(placement_id)}/end", body)
    return done


async def spend(api: Api, financial_year: int) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, "/spend", {"financial_year": financial_year})
    return found


async def budgets(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get("monitoring", "/budgets")
    return found


async def needs(api: Api, status: str | None, *, limit: int, offset: int) -> dict[str, Any]:
    """Placement needs, newest first (placements audits the read of each)."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if status:
        params["status"] = status
    found: dict[str, Any] = await api.get(SERVICE, "/needs", params)
    return found


async def need(api: Api, need_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/needs/{segment(need_id)}")
    return found
