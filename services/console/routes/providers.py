"""The register: a list of providers and a provider's page (details, documents, latest
inspection, open alerts). Officers download a proposed document's file from the page and
verify the document there, setting the expiry they read on it."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup

from services.console.clients import ApiRefused, ServiceUnavailable, registry
from services.console.clients import monitoring as monitoring_api
from services.console.clients.api import Api, segment
from services.console.render import page
from services.console.web import (
    Person,
    api_for,
    checked_form,
    field_errors,
    form_api,
    person_of,
    refused_form,
    together,
)

router = APIRouter()
READERS = ("commissioner", "admin", "monitoring_officer")
VERIFIERS = ("commissioner", "monitoring_officer")
KINDS = {
    "insurance": "Insurance",
    "safeguarding_policy": "Safeguarding policy",
    "financial_check": "Financial check",
}
REFERENCE_MAX = 200
PAGE_SIZE = 25
STATUSES = ("registered", "active", "suspended", "removed")


@router.get("/providers")
async def provider_list(
    request: Request,
    status: str = Query(default="", max_length=20),
    offset: int = Query(default=0, ge=0, le=100_000),
) -> Response:
    person = person_of(request, *READERS)
    chosen = status if status in STATUSES else ""
    found = await registry.providers(
        api_for(request, person), status=chosen or None, limit=PAGE_SIZE, offset=offset
    )
    return page(
        request,
        "providers.html",
        found=found,
        status=chosen,
        statuses=STATUSES,
        offset=offset,
        page_size=PAGE_SIZE,
    )


def _download_link(provider_id: str, file: dict[str, Any]) -> Markup:
    """A link to download the file, naming it and its size (escaped: the name is the
    provider's)."""
    url = f"/providers/{segment(provider_id)}/documents/{segment(file['kind'])}/file"
    label = KINDS.get(file["kind"], file["kind"])
    size_kb = max(1, -(-int(file["size"]) // 1024))
    return Markup(
        '<a class="govuk-link" href="{}" download>Download '
        '<span class="govuk-visually-hidden">{} file </span>{}</a> ({} KB)'
    ).format(url, label, file["filename"], size_kb)


async def _open_alerts(api: Api, provider_id: str) -> list[dict[str, object]] | None:
    try:
        found: list[dict[str, object]] = await monitoring_api.alerts(
            api, status="open", provider_id=provider_id
        )
    except ServiceUnavailable:
        return None  # the page still shows the register's facts
    return found


async def _none() -> None:
    return None


async def _provider_page(
    request: Request,
    person: Person,
    provider_id: str,
    status_code: int = 200,
    errors: Any = None,
    form: Any = None,
) -> Response:
    api = api_for(request, person)
    # Independent calls go out together; the register's provider failing fails the page.
    provider, alerts, found = await together(
        registry.provider(api, provider_id),
        _open_alerts(api, provider_id),
        registry.document_files(api, provider_id) if person.role in VERIFIERS else _none(),
    )
    files: dict[str, Markup] = {f["kind"]: _download_link(provider_id, f) for f in found or []}
    return page(
        request,
        "provider.html",
        status_code,
        provider=provider,
        alerts=alerts,
        files=files,
        kinds=KINDS,
        may_verify=person.role in VERIFIERS,
        errors=errors or [],
        form=form or {},
        verified=request.query_params.get("verified") == "1",
        moved=request.query_params.get("moved") == "1",
        moves={k: v for k, v in MOVES.items() if k != provider["status"]},
    )


@router.get("/providers/{provider_id}")
async def provider_page(request: Request, provider_id: str) -> Response:
    person = person_of(request, *READERS)
    return await _provider_page(request, person, provider_id)


@router.get("/providers/{provider_id}/documents/{kind}/file")
async def document_file(request: Request, provider_id: str, kind: str) -> Response:
    """The document's file as the register keeps it: an attachment of its stored type,
    never shown inline (the register audits the download)."""
    person = person_of(request, *VERIFIERS)
    found = await registry.document_file(api_for(request, person), provider_id, kind)
    headers = {
        "Content-Disposition": found.headers.get("content-disposition", "attachment"),
        "X-Content-Type-Options": "nosniff",
    }
    media_type = found.headers.get("content-type", "application/octet-stream")
    return Response(found.content, media_type=media_type, headers=headers)


def _expiry(form: Any) -> date | None:
    try:
        return date(
            int(str(form.get("expires-year", ""))),
            int(str(form.get("expires-month", ""))),
            int(str(form.get("expires-day", ""))),
        )
    except ValueError:
        return None


@router.post("/providers/{provider_id}/documents/verification")
async def verify(request: Request, provider_id: str) -> Response:
    """An officer verifies a proposed document and sets the expiry read on it."""
    person = person_of(request, *VERIFIERS)
    form = await checked_form(request)
    names = ("kind", "reference", "expires-day", "expires-month", "expires-year")
    given = {name: str(form.get(name, "")).strip() for name in names}
    expires = _expiry(form)
    problems = []
    if given["kind"] not in KINDS:
        problems.append({"text": "Select the document", "href": "#kind", "field": "kind"})
    if expires is None:
        text = "Enter the expiry date on the document, like 31 8 2027"
        problems.append({"text": text, "href": "#expires-day", "field": "expires"})
    if len(given["reference"]) > REFERENCE_MAX:
        text = f"Reference must be {REFERENCE_MAX} characters or fewer"
        problems.append({"text": text, "href": "#reference", "field": "reference"})
    if problems or expires is None:
        return await _provider_page(request, person, provider_id, 400, problems, given)
    body = {"expires_on": expires.isoformat(), "reference": given["reference"] or None}
    try:
        await registry.verify_document(
            form_api(request, person, form), provider_id, given["kind"], body
        )
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is not None:
            labels = {"kind": "Document", "expires_on": "Expiry date", "reference": "Reference"}
            errors = field_errors(refusal, labels, {"expires_on": ("expires", "#expires-day")})
            return await _provider_page(request, person, provider_id, 400, errors, given)
    return RedirectResponse(f"/providers/{segment(provider_id)}?verified=1", status_code=303)


# What a commissioner may move a provider to (the register decides which move is lawful
# from where it is now, and its 409 is shown as the error summary).
MOVES = {
    "active": "Active: may apply to the DPS, bid and be placed with",
    "suspended": "Suspended: no new call-offs or placements",
    "removed": "Removed from the register (final)",
}
REASON_MAX = 500


@router.post("/providers/{provider_id}/status")
async def change_status(request: Request, provider_id: str) -> Response:
    """A commissioner admits a registered provider to the market, suspends or removes it,
    saying why (the register records and publishes the change)."""
    person = person_of(request, "commissioner")
    form = await checked_form(request)
    given = {name: str(form.get(name, "")).strip() for name in ("status", "status_reason")}
    problems = []
    if given["status"] not in MOVES:
        problems.append({"text": "Select the new status", "href": "#status", "field": "status"})
    if not given["status_reason"]:
        text = "Enter why the status changes"
        problems.append({"text": text, "href": "#status_reason", "field": "status_reason"})
    elif len(given["status_reason"]) > REASON_MAX:
        text = f"Reason must be {REASON_MAX} characters or fewer"
        problems.append({"text": text, "href": "#status_reason", "field": "status_reason"})
    if problems:
        return await _provider_page(request, person, provider_id, 400, problems, given)
    body = {"status": given["status"], "reason": given["status_reason"]}
    try:
        await registry.change_status(form_api(request, person, form), provider_id, body)
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is not None:
            labels = {"status": "New status", "reason": "Reason"}
            errors = field_errors(refusal, labels, {"reason": ("status_reason", "#status_reason")})
            return await _provider_page(request, person, provider_id, 400, errors, given)
    return RedirectResponse(f"/providers/{segment(provider_id)}?moved=1", status_code=303)
