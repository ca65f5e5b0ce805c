"""Procurement's call-off API (services/procurement/api.py, worklist_api.py): list, read,
score a bid, rank the bids, approve the award."""

from __future__ import annotations

from typing import Any

from services.console.clients.api import Api, segment

SERVICE = "procurement"
# The most the list asks for at once; the console pages through it.
LIST_LIMIT = 1000


async def call_offs(api: Api, statuses: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(
        SERVICE, "/competitions", {"status": statuses, "limit": LIST_LIMIT}
    )
    return found


async def call_off(api: Api, competition_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/competitions/{segment(competition_id)}")
    return found


async def score(
    api: Api, competition_id: str, bid_id: str, scores: dict[str, str], comment: str | None
) -> dict[str, Any]:
    path = f"/competitions/{segment(competition_id)}/bids/{segment(bid_id)}/scores"
    done: dict[str, Any] = await api.post(SERVICE, path, {"scores": scores, "comment": comment})
    return done


async def evaluate(api: Api, competition_id: str) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/competitions/{segment(competition_id)}/evaluation"
    )
    return done


async def approve(api: Api, competition_id: str) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/competitions/{segment(competition_id)}/award", {"decision": "approve"}
    )
    return done


async def open_call_off(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """POST /competitions: a call-off on the scheme's published award criteria."""
    done: dict[str, Any] = await api.post(SERVICE, "/competitions", body)
    return done


async def answer(api: Api, competition_id: str, clarification_id: str, text: str) -> dict[str, Any]:
    """Publish the answer to a clarification question to every invited provider."""
    path = (
        f"/competitions/{segment(competition_id)}/clarifications/{segment(clarification_id)}/answer"
    )
    done: dict[str, Any] = await api.post(SERVICE, path, {"answer": text})
    return done
