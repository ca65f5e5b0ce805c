"""Procurement's API (services/procurement/api.py and worklist_api.py)."""

from __future__ import annotations

from typing import Any

from services.console.clients.api import Api, segment

SERVICE = "procurement"


async def applications(api: Api, status: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(
        SERVICE, "/applications", {"status": status} if status else None
    )
    return found


async def application(api: Api, application_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/applications/{segment(application_id)}")
    return found


async def request_clarification(
    api: Api, application_id: str, question: str, reply_by_on: str
) -> dict[str, Any]:
    """Ask the applicant to clarify or supplement (PCR 2015 reg 56(4)); the clock runs on."""
    done: dict[str, Any] = await api.post(
        SERVICE,
        f"/applications/{segment(application_id)}/clarification-requests",
        {"question": question, "reply_by_on": reply_by_on},
    )
    return done


async def decide(
    api: Api,
    application_id: str,
    refused: dict[str, str] | None = None,
    assessments: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Admit (no refusals: the criteria decide) or refuse categories, each with a reason;
    with every selection question's assessment (pass/fail or score, and a note)."""
    body = {"refused_categories": refused or {}, "assessments": assessments or {}}
    decided: dict[str, Any] = await api.post(
        SERVICE, f"/applications/{segment(application_id)}/decision", body
    )
    return decided


async def competitions(api: Api, statuses: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/competitions", {"status": statuses})
    return found
