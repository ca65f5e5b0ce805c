"""Schemes: the list and a scheme's page (lots and their thresholds, award criteria,
regime, members by lot); extending an application's evaluation clock with a reason."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused, procurement, schemes
from services.console.render import page
from services.console.routes.applications import _show as show_application
from services.console.routes.applications import provider_names
from services.console.routes.calloffs import csv_response, refusal_errors
from services.console.web import api_for, checked_form, form_api, person_of, still_in_progress

router = APIRouter()
READERS = ("commissioner", "admin", "monitoring_officer")
REASON_MAX = 1000


@router.get("/schemes")
async def scheme_list(request: Request) -> Response:
    person = person_of(request, *READERS)
    found = await schemes.schemes(api_for(request, person))
    return page(request, "schemes/list.html", schemes=found)


def by_lot(members: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Members grouped by lot ("" for a scheme without lots), each lot in code order."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for m in sorted(members, key=lambda m: (m.get("lot_code") or "", m["provider_id"])):
        grouped.setdefault(m.get("lot_code") or "", []).append(m)
    return grouped


@router.get("/schemes/{scheme_id}")
async def scheme_page(request: Request, scheme_id: str) -> Response:
    person = person_of(request, *READERS)
    api = api_for(request, person)
    found, members, names = await asyncio.gather(
        schemes.scheme(api, scheme_id), schemes.members(api, scheme_id), provider_names(api)
    )
    return page(request, "schemes/page.html", scheme=found, lots=by_lot(members), names=names)


@router.post("/applications/{application_id}/extension")
async def extend(request: Request, application_id: str) -> Response:
    person = person_of(request, "commissioner")
    form = await checked_form(request)
    reason = str(form.get("extension_reason", "")).strip()
    problem = ""
    if not reason:
        problem = "Enter why the evaluation needs longer"
    elif len(reason) > REASON_MAX:
        problem = f"Why the evaluation needs longer must be {REASON_MAX} characters or fewer"
    given = {"extension_reason": reason}
    if problem:
        errors = [{"text": problem, "href": "#extension_reason", "field": "extension_reason"}]
        return await show_application(request, application_id, 400, errors, given)
    try:
        await schemes.extend(form_api(request, person, form), application_id, reason)
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        if not still_in_progress(refused.errors):
            errors = refusal_errors(refused.errors)
            return await show_application(request, application_id, 400, errors, given)
    return RedirectResponse(f"/applications/{application_id}?extended=1", status_code=303)


APPLICATION_COLUMNS = (
    "application_id",
    "scheme_id",
    "provider_id",
    "requested_categories",
    "status",
    "submitted_at",
    "evaluation_due_on",
    "extension_reason",
    "outcome",
)


@router.get("/applications.csv")
async def application_csv(
    request: Request, status: str = Query(default="submitted", max_length=20)
) -> Response:
    person = person_of(request, *READERS)
    chosen = status if status in ("submitted", "decided") else "submitted"
    found = await procurement.applications(api_for(request, person), chosen)
    rows = [
        [
            a["application_id"],
            a["scheme_id"],
            a["provider_id"],
            " ".join(a["requested_categories"]),
            a["status"],
            a["submitted_at"],
            a["evaluation_due_on"],
            a.get("extension_reason"),
            (a.get("decision") or {}).get("outcome"),
        ]
        for a in found
    ]
    return csv_response(list(APPLICATION_COLUMNS), rows, f"applications-{chosen}.csv")
