"""The provider portal's KPI returns: the returns the provider owes (per placement and
term, from monitoring) and a form to send one.

Monitoring narrows both to the provider the token names: the list is read for the
session's own provider id (another provider's id is refused, 403), and a return for a
placement that is not the provider's is refused too (403), whatever the form says."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused, ServiceUnavailable, watch
from services.console.clients import placements as placements_api
from services.console.render import page
from services.console.routes.home import _section
from services.console.routes.portal import provider_of
from services.console.web import api_for, checked_form, form_api

router = APIRouter()
PROGRESS = {"met": "Met", "partly": "Partly met", "not_met": "Not met"}
COUNT_MAX = 1000  # monitoring's KpiReturnIn limits
# The API's field names to the form's element ids.
IDS = {
    "placement_id": "owed",
    "term": "owed",
    "attendance_pct": "attendance_pct",
    "exclusions": "exclusions",
    "incidents": "incidents",
    "outcomes_progress": "progress",
}


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


def _refusals(refused: ApiRefused) -> list[dict[str, str]]:
    problems = []
    for error in refused.errors:
        field = error["field"].split(".")[-1]
        rule = error.get("message") or error["rule"].replace("_", " ")
        element = IDS.get(field, "main-content")
        problems.append(_problem(element, f"{field.replace('_', ' ')}: {rule}"))
    return problems


async def _show(
    request: Request,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    person, provider_id = provider_of(request)
    api = api_for(request, person)
    owed, placed = await asyncio.gather(
        _section(watch.kpi_returns_due(api, provider_id)),
        _section(placements_api.placements_at(api, provider_id)),
    )
    # The provider's own placements' references, to tell its children apart on the page.
    refs: dict[str, str] = (
        {}
        if isinstance(placed, ServiceUnavailable)
        else {p["placement_id"]: p["child_ref"] for p in placed["items"]}
    )
    return page(
        request,
        "portal/kpi_returns.html",
        status_code,
        owed=owed,
        refs=refs,
        progress=PROGRESS,
        errors=errors or [],
        form=form or {},
        sent=request.query_params.get("sent") == "1",
    )


@router.get("/portal/kpi-returns")
async def kpi_returns_page(request: Request) -> Response:
    return await _show(request)


def _numbers(values: dict[str, str], errors: list[dict[str, str]]) -> dict[str, Any]:
    numbers: dict[str, Any] = {}
    for field, label, kind, top in (
        ("attendance_pct", "Attendance", float, 100),
        ("exclusions", "Exclusions", int, COUNT_MAX),
        ("incidents", "Incidents", int, COUNT_MAX),
    ):
        try:
            numbers[field] = kind(values[field])
            if not 0 <= numbers[field] <= top:
                raise ValueError
        except ValueError:
            errors.append(
                _problem(
                    field,
                    f"{label} must be a whole number from 0 to {top}"
                    if kind is int
                    else f"{label} must be a number from 0 to {top}",
                )
            )
    return numbers


@router.post("/portal/kpi-returns")
async def send_kpi_return(request: Request) -> Response:
    person, _ = provider_of(request)
    form = await checked_form(request)
    names = ("owed", "attendance_pct", "exclusions", "incidents", "progress")
    values = {k: str(form.get(k, "")).strip() for k in names}
    errors: list[dict[str, str]] = []
    placement_id, _, term = values["owed"].partition("|")
    if not placement_id or not term:
        errors.append(_problem("owed", "Select the placement and term the return is for"))
    numbers = _numbers(values, errors)
    if values["progress"] not in PROGRESS:
        errors.append(_problem("progress", "Select progress against the plan's outcomes"))
    if errors:
        return await _show(request, 400, errors, values)
    body = {"placement_id": placement_id, "term": term, **numbers}
    body["outcomes_progress"] = values["progress"]
    try:
        await watch.record(form_api(request, person, form), "kpi-returns", body)
    except ApiRefused as refused:
        if refused.status in (403, 404):
            raise  # not this provider's placement: the refusal page, nothing more said
        return await _show(request, 400, _refusals(refused), values)
    return RedirectResponse("/portal/kpi-returns?sent=1", status_code=303)
