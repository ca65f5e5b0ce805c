"""Procurement's API (services/procurement/api.py and worklist_api.py)."""

from __future__ import annotations

from typing import Any

import httpx

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


async def tracked_notices(api: Api, regime: str | None = None) -> list[dict[str, Any]]:
    """Every notice with its tracking (kind in words, form, regime, due, status, source),
    soonest due first; only those of schemes under `regime` when given."""
    found: dict[str, Any] = await api.get(
        SERVICE, "/notices/tracking", {"regime": regime} if regime else None
    )
    notices: list[dict[str, Any]] = found["notices"]
    return notices


async def record_publication(
    api: Api, notice_id: str, status: str, publication_ref: str | None
) -> dict[str, Any]:
    """Record that a notice was sent for publication or published (who and when: the
    service records the person its token names, and the time)."""
    body: dict[str, Any] = {"status": status}
    if publication_ref:
        body["publication_ref"] = publication_ref
    done: dict[str, Any] = await api.post(
        SERVICE, f"/notices/{segment(notice_id)}/publication", body
    )
    return done


async def ocds_releases(api: Api, scheme_id: str) -> httpx.Response:
    """The scheme's OCDS release package, as the service gave it (a file to download)."""
    return await api.download(SERVICE, f"/schemes/{segment(scheme_id)}/ocds/releases")


async def record_direct_award(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """A direct award on a Schedule 5 ground (Procurement Act 2023 s.41); the answer says
    which notices must come first and whether a standstill applies."""
    done: dict[str, Any] = await api.post(SERVICE, "/direct-awards", body)
    return done


async def direct_award(api: Api, direct_award_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/direct-awards/{segment(direct_award_id)}")
    return found
