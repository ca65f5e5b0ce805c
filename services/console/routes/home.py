"""The home page: a commissioner's "what needs action today"; other roles go to theirs.

Each section reads one service; a service that is down blanks its own section (named)
and the rest of the page still helps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ServiceUnavailable, procurement, registry
from services.console.clients import monitoring as monitoring_api
from services.console.render import page
from services.console.web import api_for, person_of
from shared import clock

router = APIRouter()
T = TypeVar("T")
COMMISSIONING = ("commissioner", "admin")
CLOSING_WITHIN = timedelta(days=7)
DOCUMENTS_WITHIN = timedelta(days=30)


async def _section(call: Awaitable[T]) -> T | ServiceUnavailable:
    try:
        return await call
    except ServiceUnavailable as down:
        return down


def _clock(application: dict[str, Any], now: datetime) -> dict[str, Any]:
    due_at = datetime.fromisoformat(application["evaluation_due_at"])
    due_on = date.fromisoformat(application["evaluation_due_on"])
    return {
        **application,
        "days_left": (due_on - now.date()).days,
        "overdue": due_at < now,
    }


def _call_offs(competitions: list[dict[str, Any]], now: datetime) -> dict[str, list[Any]]:
    closing = [
        c
        for c in competitions
        if c["status"] == "open"
        and datetime.fromisoformat(c["deadline_at"]) <= now + CLOSING_WITHIN
    ]
    return {
        "closing": closing,
        "awaiting_evaluation": [c for c in competitions if c["status"] in ("closed", "evaluation")],
        "awaiting_approval": [c for c in competitions if c["status"] == "evaluated"],
    }


def _expiring(page_: dict[str, Any], today: date) -> list[dict[str, Any]]:
    soon = today + DOCUMENTS_WITHIN
    found = []
    for hit in page_["items"]:
        provider = hit["provider"]
        for document in provider.get("documents", []):
            expires = date.fromisoformat(document["expires_on"])
            if expires <= soon:
                found.append(
                    {
                        "provider_id": provider["provider_id"],
                        "provider": provider["name"],
                        "kind": document["kind"],
                        "expires_on": expires,
                        "expired": expires < today,
                    }
                )
    return sorted(found, key=lambda d: d["expires_on"])


def _names(register: dict[str, Any] | ServiceUnavailable) -> dict[str, str]:
    if isinstance(register, ServiceUnavailable):
        return {}
    return {hit["provider"]["provider_id"]: hit["provider"]["name"] for hit in register["items"]}


@router.get("/")
async def home(request: Request) -> Response:
    person = person_of(request)
    if person.role == "monitoring_officer":
        return RedirectResponse("/alerts", status_code=303)
    if person.role == "provider":
        return RedirectResponse("/portal", status_code=303)
    if person.role == "supplier":  # signed in, not yet bound to a provider
        return RedirectResponse("/portal/register", status_code=303)
    if person.role not in COMMISSIONING:
        return page(request, "home_other.html")
    api = api_for(request, person)
    now = clock.now()
    applications, competitions, dashboard, register = await asyncio.gather(
        _section(procurement.applications(api, "submitted")),
        _section(procurement.competitions(api, ["open", "closed", "evaluation", "evaluated"])),
        _section(monitoring_api.dashboard(api)),
        _section(registry.providers(api, status="active", limit=200)),
    )
    # Suspensions are the commissioner's alone to decide (the register's policy).
    suspensions = (
        await _section(registry.recommendations(api, status="pending"))
        if person.role == "commissioner"
        else None
    )
    return page(
        request,
        "home.html",
        applications=(
            applications
            if isinstance(applications, ServiceUnavailable)
            else [_clock(a, now) for a in applications]
        ),
        call_offs=(
            competitions
            if isinstance(competitions, ServiceUnavailable)
            else _call_offs(competitions, now)
        ),
        dashboard=dashboard,
        documents=(
            register
            if isinstance(register, ServiceUnavailable)
            else _expiring(register, now.date())
        ),
        names=_names(register),
        suspensions=suspensions,
    )
