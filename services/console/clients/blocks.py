"""Placements' block contract and block place offer routes (services/placements/api.py):
the council's block contracts with their utilisation, and a provider's offers of places."""

from __future__ import annotations

from typing import Any

from services.console.clients.api import Api, segment

SERVICE = "placements"
CSV_BATCH = 500  # placements' largest page
CSV_MAX = 5_000  # a council holds tens of block contracts; a bound all the same


def _period(period: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in period.items() if v}


async def block_contracts(
    api: Api, filters: dict[str, str], *, limit: int, offset: int
) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(
        SERVICE, "/block-contracts", {**_period(filters), "limit": limit, "offset": offset}
    )
    return found


async def all_block_contracts(api: Api, filters: dict[str, str]) -> list[dict[str, Any]]:
    """Every block contract the filters match (for the CSV), a batch at a time."""
    items: list[dict[str, Any]] = []
    while len(items) < CSV_MAX:
        batch = await block_contracts(api, filters, limit=CSV_BATCH, offset=len(items))
        items.extend(batch["items"])
        if not batch["items"] or len(items) >= batch["total"]:
            break
    return items


async def block_contract(api: Api, block_id: str, period: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(
        SERVICE, f"/block-contracts/{segment(block_id)}", _period(period)
    )
    return found


async def create_block_contract(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = await api.post(SERVICE, "/block-contracts", body)
    return made


async def decide_renewal(api: Api, block_id: str, body: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/block-contracts/{segment(block_id)}/renewal", body
    )
    return done


async def my_offers(api: Api) -> dict[str, Any]:
    """The signed-in provider's offers (placements narrows them to its own)."""
    found: dict[str, Any] = await api.get(SERVICE, "/block-offers", {"limit": 100})
    return found


async def offer(api: Api, offer_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/block-offers/{segment(offer_id)}")
    return found


async def decide_offer(api: Api, offer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/block-offers/{segment(offer_id)}/decision", body
    )
    return done
