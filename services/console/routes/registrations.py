"""The council's verification of providers' people (issue 15): a commissioner lists the
registrations and verifies or rejects each. A claim by URN is verified like a new
provider: anyone can type a URN, and only the council knows who may act for a school."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused, people
from services.console.render import page, pagination
from services.console.routes.portal_people import ATTENDANCE_NAMES, TYPE_NAMES
from services.console.web import (
    api_for,
    checked_form,
    field_errors,
    form_api,
    person_of,
)

router = APIRouter()
COMMISSIONER = "commissioner"
PAGE_SIZE = 25
STATUSES = {"pending": "Awaiting verification", "verified": "Verified", "rejected": "Rejected"}
LABELS = {"decision": "Decision", "reason": "Reason", "urn": "URN", "registration": "Decision"}


@router.get("/registrations")
async def registration_list(
    request: Request,
    status: str = Query(default="pending"),
    page_number: int = Query(default=1, ge=1, le=10_000, alias="page"),
) -> Response:
    person = person_of(request, COMMISSIONER)
    status = status if status in STATUSES else "pending"
    found = await people.registrations(
        api_for(request, person),
        status=status,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    return page(
        request,
        "registrations/list.html",
        registrations=found["items"],
        total=found["total"],
        status=status,
        statuses=STATUSES,
        pagination=pagination(
            f"/registrations?status={status}&page=",
            page_number,
            max(1, -(-found["total"] // PAGE_SIZE)),
        ),
    )


async def _detail(
    request: Request,
    registration_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    person = person_of(request, COMMISSIONER)
    found = await people.registration(api_for(request, person), registration_id)
    return page(
        request,
        "registrations/detail.html",
        status_code,
        registration=found,
        types=TYPE_NAMES,
        attendances=ATTENDANCE_NAMES,
        errors=errors or [],
        form=form or {"decision": "", "reason": "", "urn": ""},
    )


@router.get("/registrations/{registration_id}")
async def registration_page(request: Request, registration_id: str) -> Response:
    return await _detail(request, registration_id)


@router.post("/registrations/{registration_id}")
async def decide(request: Request, registration_id: str) -> Response:
    person = person_of(request, COMMISSIONER)
    form = await checked_form(request)
    typed = {k: str(form.get(k, "")).strip() for k in ("decision", "reason", "urn")}
    problems = []
    if typed["decision"] not in ("verify", "reject"):
        problems.append(
            {"text": "Select verify or reject", "href": "#decision", "field": "decision"}
        )
    if typed["decision"] == "reject" and not typed["reason"]:
        text = "Say why you reject it: the person is told"
        problems.append({"text": text, "href": "#reason", "field": "reason"})
    if typed["urn"] and not (typed["urn"].isdigit() and len(typed["urn"]) == 6):
        problems.append({"text": "URN must be 6 digits", "href": "#urn", "field": "urn"})
    if problems:
        return await _detail(request, registration_id, 400, problems, typed)
    body: dict[str, Any] = {"decision": typed["decision"], "reason": typed["reason"]}
    if typed["urn"]:
        body["urn"] = int(typed["urn"])
    try:
        await people.decide(form_api(request, person, form), registration_id, body)
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        errors = field_errors(refused.errors, LABELS)
        return await _detail(request, registration_id, 400, errors, typed)
    return RedirectResponse(f"/registrations/{registration_id}?decided=1", status_code=303)
