"""The monitoring officer's page of one provider: scorecard, inspection timeline,
documents, visits, KPI returns, incidents, open alerts and the placements there, with
forms to record a visit, a KPI return or an incident. Each section comes from the service
that owns it; one service being down blanks only its sections."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from services.console.clients import ApiRefused, ServiceUnavailable, registry, watch
from services.console.clients import monitoring as monitoring_api
from services.console.clients import placements as placements_api
from services.console.render import page
from services.console.web import api_for, checked_form, form_api, person_of, together

router = APIRouter()
WATCHERS = ("monitoring_officer", "commissioner")  # monitoring's policy: C, M
T = TypeVar("T")
TERM = re.compile(r"^\d{4}-(spring|summer|autumn)$")  # quality_v1.TERM_PATTERN
RATINGS = {"1": "Outstanding", "2": "Good", "3": "Requires improvement", "4": "Inadequate"}
SUMMARY_MAX = 1000


async def _or_none(call: Awaitable[T]) -> T | None:
    try:
        return await call
    except ServiceUnavailable:
        return None


async def _show(
    request: Request,
    provider_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    person = person_of(request, *WATCHERS)
    api = api_for(request, person)
    # All at once; the register's provider failing (404, down) fails the whole page.
    provider, placements, inspections, scorecard, file, alerts = await together(
        registry.provider(api, provider_id),
        _or_none(placements_api.placements_at(api, provider_id)),
        _or_none(registry.inspections(api, provider_id)),
        _or_none(watch.scorecard(api, provider_id)),
        _or_none(watch.provider_file(api, provider_id)),
        _or_none(monitoring_api.alerts(api, status="open", provider_id=provider_id)),
    )
    return page(
        request,
        "placements/watch.html",
        status_code,
        provider=provider,
        inspections=inspections,
        scorecard=scorecard,
        file=file,
        alerts=alerts,
        placements=None if placements is None else placements["items"],
        ratings=RATINGS,
        today=datetime.now(UTC).date().isoformat(),
        errors=errors or [],
        form=form or {},
        done=request.query_params.get("done", ""),
    )


@router.get("/providers/{provider_id}/monitoring")
async def watch_page(request: Request, provider_id: str) -> Response:
    return await _show(request, provider_id)


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


def _date(values: dict[str, str], field: str, label: str, errors: list[dict[str, str]]) -> None:
    try:
        on = date.fromisoformat(values[field])
    except ValueError:
        errors.append(_problem(field, f"{label} must be a real date, like 2026-03-31"))
        return
    if on > datetime.now(UTC).date():
        errors.append(_problem(field, f"{label} must be today or in the past"))


async def _record(
    request: Request,
    provider_id: str,
    what: str,
    values: dict[str, str],
    errors: list[dict[str, str]],
    body: dict[str, Any],
    ids: dict[str, str],
    form: FormData,
) -> Response:
    """Send a checked form to monitoring; its `{field, rule}` refusals go back onto the
    form's fields (`ids`: the API's field name to the form element's id)."""
    if errors:
        return await _show(request, provider_id, 400, errors, values)
    person = person_of(request, *WATCHERS)
    try:
        await watch.record(form_api(request, person, form), what, body)
    except ApiRefused as refused:
        if refused.status == 404 and what != "kpi-returns":
            raise
        problems = []
        for error in refused.errors:
            field = error["field"].split(".")[-1]
            rule = error.get("message") or error["rule"].replace("_", " ")
            element = ids.get(field, "main-content")
            problems.append({"text": f"{field.replace('_', ' ')}: {rule}", "href": f"#{element}"})
        return await _show(request, provider_id, 400, problems, values)
    return RedirectResponse(f"/providers/{provider_id}/monitoring?done={what}", status_code=303)


@router.post("/providers/{provider_id}/visits")
async def record_visit(request: Request, provider_id: str) -> Response:
    person_of(request, *WATCHERS)
    form = await checked_form(request)
    values = {k: str(form.get(k, "")).strip() for k in ("visited_on", "rating", "findings")}
    errors: list[dict[str, str]] = []
    _date(values, "visited_on", "Date of the visit", errors)
    if values["rating"] not in RATINGS:
        errors.append(_problem("rating", "Select the visit's rating"))
    if len(values["findings"]) > 4000:
        errors.append(_problem("findings", "Findings must be 4000 characters or fewer"))
    body = {"provider_id": provider_id, **values, "rating": int(values["rating"] or 0)}
    ids = {"visited_on": "visited_on", "rating": "rating", "findings": "findings"}
    return await _record(request, provider_id, "visits", values, errors, body, ids, form)


@router.post("/providers/{provider_id}/incidents")
async def record_incident(request: Request, provider_id: str) -> Response:
    person_of(request, *WATCHERS)
    form = await checked_form(request)
    names = ("category", "severity", "occurred_on", "summary", "incident_placement")
    values = {k: str(form.get(k, "")).strip() for k in names}
    errors: list[dict[str, str]] = []
    if values["category"] not in ("safeguarding", "complaint"):
        errors.append(_problem("category", "Select safeguarding or complaint"))
    if values["severity"] not in ("low", "medium", "high"):
        errors.append(_problem("severity", "Select how serious it is"))
    _date(values, "occurred_on", "Date it happened", errors)
    if not values["summary"]:
        errors.append(_problem("summary", "Enter what happened (no child's name)"))
    elif len(values["summary"]) > SUMMARY_MAX:
        errors.append(_problem("summary", f"Summary must be {SUMMARY_MAX} characters or fewer"))
    body = {
        "provider_id": provider_id,
        "placement_id": values["incident_placement"] or None,
        **{k: values[k] for k in ("category", "severity", "occurred_on", "summary")},
    }
    ids = {k: k for k in names} | {"placement_id": "incident_placement"}
    return await _record(request, provider_id, "incidents", values, errors, body, ids, form)


@router.post("/providers/{provider_id}/kpi-returns")
async def record_kpi_return(request: Request, provider_id: str) -> Response:
    person_of(request, *WATCHERS)
    form = await checked_form(request)
    names = ("kpi_placement", "term", "attendance_pct", "exclusions", "kpi_incidents", "progress")
    values = {k: str(form.get(k, "")).strip() for k in names}
    errors: list[dict[str, str]] = []
    if not values["kpi_placement"]:
        errors.append(_problem("kpi_placement", "Select the placement the return is for"))
    if not TERM.match(values["term"]):
        errors.append(_problem("term", "Term must be a year and a term, like 2026-spring"))
    numbers: dict[str, float | int] = {}
    for field, label, kind, top in (
        ("attendance_pct", "Attendance", float, 100),
        ("exclusions", "Exclusions", int, 1000),
        ("kpi_incidents", "Incidents", int, 1000),
    ):
        try:
            numbers[field] = kind(values[field])
            if not 0 <= numbers[field] <= top:
                raise ValueError
        except ValueError:
            errors.append(_problem(field, f"{label} must be a number from 0 to {top}"))
    if values["progress"] not in ("met", "partly", "not_met"):
        errors.append(_problem("progress", "Select progress against the plan's outcomes"))
    body = {
        "placement_id": values["kpi_placement"],
        "term": values["term"],
        "attendance_pct": numbers.get("attendance_pct"),
        "exclusions": numbers.get("exclusions"),
        "incidents": numbers.get("kpi_incidents"),
        "outcomes_progress": values["progress"],
    }
    ids = {
        "placement_id": "kpi_placement",
        "placement": "kpi_placement",
        "term": "term",
        "attendance_pct": "attendance_pct",
        "exclusions": "exclusions",
        "incidents": "kpi_incidents",
        "outcomes_progress": "progress",
    }
    return await _record(request, provider_id, "kpi-returns", values, errors, body, ids, form)
