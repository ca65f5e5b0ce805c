"""Schemes: the list and a scheme's page (lots and their thresholds, award criteria,
regime, members by lot); setting one up and amending it (a draft in full; an open one
only its title, or its term to the next extension, as procurement's AMENDMENT_RULES
allow); extending an application's evaluation clock with a reason."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from services.console.clients import ApiRefused, procurement, schemes
from services.console.render import page
from services.console.routes import scheme_form
from services.console.routes.applications import _show as show_application
from services.console.routes.applications import provider_names
from services.console.routes.calloffs import csv_response, refusal_errors
from services.console.web import (
    Person,
    api_for,
    checked_form,
    form_api,
    person_of,
    refused_form,
    still_in_progress,
)

router = APIRouter()
READERS = ("commissioner", "admin", "monitoring_officer")
# Setting up and amending schemes is the commissioner's (services/procurement/policy.py).
COMMISSIONER = "commissioner"
REASON_MAX = 1000
LIVE = ("open", "suspended")
# The council's publication step takes the OCDS release package (procurement's policy:
# commissioner and monitoring officer; admin operates the platform, publishes nothing).
OCDS_READERS = ("commissioner", "monitoring_officer")


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


def _form_page(
    request: Request,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    given: dict[str, Any] | None = None,
    scheme: dict[str, Any] | None = None,
) -> Response:
    return page(
        request,
        "schemes/form.html",
        status_code,
        errors=errors or [],
        form=given or scheme_form.given_of(FormData()),
        scheme=scheme,
        rows=scheme_form.ROWS,
    )


@router.get("/schemes/new")
async def new_scheme(request: Request) -> Response:
    person_of(request, COMMISSIONER)
    return _form_page(request)


@router.post("/schemes/new")
async def create_scheme(request: Request) -> Response:
    person = person_of(request, COMMISSIONER)
    form = await checked_form(request)
    given = scheme_form.given_of(form)
    body, problems = scheme_form.body_of(given, amending=False)
    if problems:
        return _form_page(request, 400, problems, given)
    try:
        done = await schemes.create(form_api(request, person, form), body)
    except ApiRefused as refused:
        if still_in_progress(refused.errors):
            return RedirectResponse("/schemes", status_code=303)
        return _form_page(request, 400, scheme_form.service_errors(refused.errors, given), given)
    return RedirectResponse(f"/schemes/{done['scheme_id']}?saved=1", status_code=303)


def next_extension(scheme: dict[str, Any]) -> str | None:
    """The term end the next unused extension the notice allowed leads to, if any."""
    options, used = scheme.get("extension_ends") or [], len(scheme.get("extensions") or [])
    return str(options[used]) if used < len(options) else None


def _edit_page(
    request: Request,
    scheme: dict[str, Any],
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    given: dict[str, Any] | None = None,
) -> Response:
    if scheme["status"] == "draft":
        shown = given or scheme_form.given_from_scheme(scheme)
        return _form_page(request, status_code, errors, shown, scheme)
    return page(
        request,
        "schemes/amend.html",
        status_code,
        scheme=scheme,
        errors=errors or [],
        form=given or {"title": scheme["title"]},
        next_extension=next_extension(scheme),
    )


@router.get("/schemes/{scheme_id}/edit")
async def edit_scheme(request: Request, scheme_id: str) -> Response:
    person = person_of(request, COMMISSIONER)
    return _edit_page(request, await schemes.scheme(api_for(request, person), scheme_id))


def _live_body(
    form: FormData, scheme: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, str]]]:
    given = {k: str(form.get(k, "")).strip() for k in ("title", "extend", "reason")}
    problems = []
    if not given["title"]:
        problems.append(scheme_form.problem("title", "Enter the title"))
    if not given["reason"]:
        problems.append(scheme_form.problem("reason", "Enter why the scheme is amended"))
    elif len(given["reason"]) > REASON_MAX:
        text = f"Reason must be {REASON_MAX} characters or fewer"
        problems.append(scheme_form.problem("reason", text))
    body: dict[str, Any] = {"title": given["title"], "reason": given["reason"]}
    extension = next_extension(scheme)
    if given["extend"] == "yes" and extension:
        body["term_end"] = extension
    return body, given, problems


@router.post("/schemes/{scheme_id}/edit")
async def amend_scheme(request: Request, scheme_id: str) -> Response:
    person = person_of(request, COMMISSIONER)
    form = await checked_form(request)
    api = form_api(request, person, form)
    scheme = await schemes.scheme(api, scheme_id)
    if scheme["status"] == "draft":
        given = scheme_form.given_of(form)
        body, problems = scheme_form.body_of(given, amending=True)
    else:
        body, given, problems = _live_body(form, scheme)
    if problems:
        return _edit_page(request, scheme, 400, problems, given)
    return await _send_amendment(request, person, scheme, body, given)


async def _send_amendment(
    request: Request,
    person: Person,
    scheme: dict[str, Any],
    body: dict[str, Any],
    given: dict[str, Any],
) -> Response:
    scheme_id = scheme["scheme_id"]
    try:
        await schemes.amend(api_for(request, person), scheme_id, body)
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        errors = scheme_form.service_errors(refused.errors, given)
        return _edit_page(request, scheme, 400, errors, given)
    return RedirectResponse(f"/schemes/{scheme_id}?saved=1", status_code=303)


@router.get("/schemes/{scheme_id}")
async def scheme_page(request: Request, scheme_id: str) -> Response:
    person = person_of(request, *READERS)
    api = api_for(request, person)
    found, members, names = await asyncio.gather(
        schemes.scheme(api, scheme_id), schemes.members(api, scheme_id), provider_names(api)
    )
    return page(
        request,
        "schemes/page.html",
        scheme=found,
        lots=by_lot(members),
        names=names,
        may_edit=person.role == COMMISSIONER and found["status"] != "closed",
        may_publish=person.role in OCDS_READERS,
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/schemes/{scheme_id}/ocds-releases.json")
async def ocds_releases(request: Request, scheme_id: str) -> Response:
    """The scheme's OCDS 1.1 release package (its contracting process and every
    call-off's), as a JSON file for the council's publication step."""
    person = person_of(request, *OCDS_READERS)
    found = await procurement.ocds_releases(api_for(request, person), scheme_id)
    return Response(
        found.content,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="ocds-releases.json"',
            "X-Content-Type-Options": "nosniff",
        },
    )


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
        if (refusal := refused_form(refused)) is not None:
            errors = refusal_errors(refusal)
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
