"""The monitoring officers' inbox: open alerts by severity and age; an alert's page
with the acknowledge and resolve forms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused
from services.console.clients import monitoring as monitoring_api
from services.console.render import page, pagination
from services.console.web import (
    api_for,
    checked_form,
    field_errors,
    form_api,
    person_of,
    refused_form,
)
from shared import clock

router = APIRouter()
OFFICERS = ("monitoring_officer", "commissioner", "admin")
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
STATUSES = ("open", "acknowledged", "resolved")
OUTCOME_MAX = 2000
PER_PAGE = 50  # a page a person reads; rendering every open alert made the inbox slow
LABELS = {"outcome": "What was done"}


def _inbox_order(alert: dict[str, Any]) -> tuple[int, str]:
    # Most severe first; within a severity the oldest first (it has waited longest).
    return (SEVERITY_ORDER.get(alert["severity"], 9), alert["raised_at"])


def time_left(deadline: str | None, now: datetime) -> str:
    """How long before an unacknowledged critical alert escalates, in words."""
    if not deadline:
        return ""
    due = datetime.fromisoformat(deadline)
    left = (due if due.tzinfo else due.replace(tzinfo=UTC)) - now  # stored in UTC
    if left.total_seconds() <= 0:
        return "Escalation due now"
    hours = int(left.total_seconds() // 3600)
    return f"{hours // 24} days {hours % 24} hours" if hours >= 24 else f"{hours} hours"


@router.get("/alerts")
async def alert_list(
    request: Request,
    status: str = Query(default="open", max_length=20),
    severity: str = Query(default="", max_length=20),
    provider_id: str = Query(default="", max_length=200),
    page_number: int = Query(default=1, alias="page", ge=1, le=100_000),
) -> Response:
    person = person_of(request, *OFFICERS)
    chosen = status if status in STATUSES else "open"
    graded = severity if severity in SEVERITY_ORDER else ""
    provider = provider_id.strip()
    found = await monitoring_api.alerts(
        api_for(request, person),
        status=chosen,
        severity=graded or None,
        provider_id=provider or None,
    )
    pages = max(1, -(-len(found) // PER_PAGE))
    current = min(page_number, pages)
    shown = sorted(found, key=_inbox_order)[(current - 1) * PER_PAGE : current * PER_PAGE]
    now = clock.now()  # the training clock's time in a rehearsal
    for alert in shown:
        waiting = alert.get("status") == "open" and not alert.get("escalated_at")
        alert["time_left"] = time_left(alert.get("escalation_deadline"), now) if waiting else ""
    query = urlencode({"status": chosen, "severity": graded, "provider_id": provider})
    return page(
        request,
        "alerts.html",
        alerts=shown,
        total=len(found),
        pagination=pagination(f"/alerts?{query}&page=", current, pages),
        status=chosen,
        statuses=STATUSES,
        severity=graded,
        severities=tuple(SEVERITY_ORDER),
        provider_id=provider,
    )


async def _show(
    request: Request,
    alert_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    person = person_of(request, *OFFICERS)
    alert = await monitoring_api.alert(api_for(request, person), alert_id)
    return page(
        request,
        "alert.html",
        status_code,
        alert=alert,
        errors=errors or [],
        form=form or {},
        done=request.query_params.get("done", ""),
        now=clock.now(),
    )


@router.get("/alerts/{alert_id}")
async def alert_page(request: Request, alert_id: str) -> Response:
    return await _show(request, alert_id)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(request: Request, alert_id: str) -> Response:
    person = person_of(request, *OFFICERS)
    form = await checked_form(request)
    try:
        await monitoring_api.acknowledge(form_api(request, person, form), alert_id)
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is None:
            return RedirectResponse(f"/alerts/{alert_id}?done=acknowledged", status_code=303)
        return await _show(request, alert_id, 400, field_errors(refusal, LABELS))
    return RedirectResponse(f"/alerts/{alert_id}?done=acknowledged", status_code=303)


@router.post("/alerts/{alert_id}/assign")
async def assign(request: Request, alert_id: str) -> Response:
    person = person_of(request, *OFFICERS)
    form = await checked_form(request)
    # "Assign to me" by default; another officer by their sign-in id.
    officer = str(form.get("officer_id", "")).strip() or person.subject
    if len(officer) > 200:
        errors = [{"text": "Officer must be 200 characters or fewer", "href": "#officer_id"}]
        return await _show(request, alert_id, 400, errors, {"officer_id": officer})
    try:
        await monitoring_api.assign(form_api(request, person, form), alert_id, officer)
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        labels = {"officer_id": "Officer", "status": "Alert"}
        return await _show(request, alert_id, 400, field_errors(refused.errors, labels))
    return RedirectResponse(f"/alerts/{alert_id}?done=assigned", status_code=303)


@router.post("/alerts/{alert_id}/resolve")
async def resolve(request: Request, alert_id: str) -> Response:
    person = person_of(request, *OFFICERS)
    form = await checked_form(request)
    outcome = str(form.get("outcome", "")).strip()
    problem = ""
    if not outcome:
        problem = "Enter what was done to resolve the alert"
    elif len(outcome) > OUTCOME_MAX:
        problem = f"What was done must be {OUTCOME_MAX} characters or fewer"
    if problem:
        errors = [{"text": problem, "href": "#outcome", "field": "outcome"}]
        return await _show(request, alert_id, 400, errors, {"outcome": outcome})
    try:
        await monitoring_api.resolve(form_api(request, person, form), alert_id, outcome)
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is None:
            return RedirectResponse(f"/alerts/{alert_id}?done=resolved", status_code=303)
        errors = field_errors(refusal, LABELS)
        return await _show(request, alert_id, 400, errors, {"outcome": outcome})
    return RedirectResponse(f"/alerts/{alert_id}?done=resolved", status_code=303)
