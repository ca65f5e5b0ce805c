"""Requests to participate: the list by time left on the evaluation clock, one
application's page and the decision form (admit, or refuse with a reason)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused, ServiceUnavailable, procurement, registry
from services.console.clients.api import Api
from services.console.render import page
from services.console.routes.home import _clock
from services.console.web import (
    api_for,
    checked_form,
    field_errors,
    form_api,
    person_of,
    still_in_progress,
)
from shared import clock

router = APIRouter()
READERS = ("commissioner", "admin", "monitoring_officer")
DECIDERS = ("commissioner", "admin")
REASON_MAX = 1000
# The services' field names, as the decision form's fields name them.
LABELS = {"outcome": "Decision", "reason": "Reason"}


async def provider_names(api: Api) -> dict[str, str]:
    """Names to show beside applications (the register is the source; without it the
    list still works, showing a short id)."""
    try:
        found = await registry.providers(api, limit=200)
    except ServiceUnavailable:
        return {}
    return {hit["provider"]["provider_id"]: hit["provider"]["name"] for hit in found["items"]}


@router.get("/applications")
async def application_list(
    request: Request, status: str = Query(default="submitted", max_length=20)
) -> Response:
    person = person_of(request, *READERS)
    chosen = status if status in ("submitted", "decided") else "submitted"
    now = clock.now()
    api = api_for(request, person)
    found = await procurement.applications(api, chosen)
    return page(
        request,
        "applications.html",
        applications=[_clock(a, now) for a in found],
        status=chosen,
        names=await provider_names(api),
    )


async def _show(
    request: Request,
    application_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    person = person_of(request, *READERS)
    found = await procurement.application(api_for(request, person), application_id)
    return page(
        request,
        "application.html",
        status_code,
        application=_clock(found, clock.now()),
        may_decide=person.role in DECIDERS,
        errors=errors or [],
        form=form or {},
        decided=request.query_params.get("decided") == "1",
        extended=request.query_params.get("extended") == "1",
        may_extend=person.role == "commissioner",
    )


@router.get("/applications/{application_id}")
async def application_page(request: Request, application_id: str) -> Response:
    return await _show(request, application_id)


def _problems(outcome: str, reason: str) -> list[dict[str, str]]:
    problems = []
    if outcome not in ("admit", "refuse"):
        problems.append(
            {"text": "Select whether to admit or refuse", "href": "#outcome", "field": "outcome"}
        )
    if outcome == "refuse" and not reason:
        problems.append(
            {"text": "Enter the reason for refusing", "href": "#reason", "field": "reason"}
        )
    if len(reason) > REASON_MAX:
        problems.append(
            {
                "text": f"Reason must be {REASON_MAX} characters or fewer",
                "href": "#reason",
                "field": "reason",
            }
        )
    return problems


@router.post("/applications/{application_id}/decision")
async def decide(request: Request, application_id: str) -> Response:
    person = person_of(request, *DECIDERS)
    form = await checked_form(request)
    outcome = str(form.get("outcome", ""))
    reason = str(form.get("reason", "")).strip()
    given = {"outcome": outcome, "reason": reason}
    problems = _problems(outcome, reason)
    if problems:
        return await _show(request, application_id, 400, problems, given)
    api = form_api(request, person, form)
    try:
        if outcome == "refuse":
            found: dict[str, Any] = await procurement.application(api, application_id)
            refused = {code: reason for code in found["requested_categories"]}
            await procurement.decide(api, application_id, refused)
        else:
            await procurement.decide(api, application_id)
    except ApiRefused as refused_by_service:
        if refused_by_service.status == 404:
            raise
        if still_in_progress(refused_by_service.errors):
            return RedirectResponse(f"/applications/{application_id}?decided=1", status_code=303)
        errors = field_errors(refused_by_service.errors, LABELS)
        return await _show(request, application_id, 400, errors, given)
    return RedirectResponse(f"/applications/{application_id}?decided=1", status_code=303)
