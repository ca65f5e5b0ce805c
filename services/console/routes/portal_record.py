"""The provider portal: its own record (compliance documents, proposed for the council to
verify) and its contracts (a placement's fee history and reviews; asking for an uplift).

A proposed document carries its file: the form (multipart, no JavaScript needed) takes the
kind, expiry, reference and the file, the console reads the file as a stream with a cap
(DPS_DOCUMENT_MAX_BYTES; larger is refused before it is read whole) and sends it on to the
register with the provider's token. The register tells the type by the file's first
bytes (DPS_DOCUMENT_TYPES) and keeps it for the officer who verifies the document
(docs/policy/provider_registry.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile

from services.console.clients import ApiRefused, portal, registry, schemes
from services.console.regimes import contract_regime
from services.console.render import page
from services.console.routes.portal import provider_of
from services.console.web import (
    FORM_ROOM,
    UploadTooLarge,
    api_for,
    checked_form,
    checked_upload_form,
    field_errors,
    form_api,
)
from shared.edge import MAX_BODY_EXTRA
from shared.settings import DOCUMENT_CEILING_BYTES

router = APIRouter()
KINDS = {
    "insurance": "Insurance",
    "safeguarding_policy": "Safeguarding policy",
    "financial_check": "Financial check",
}
# The file types the register can take, in words (it tells them by their first bytes).
FILE_TYPES = {
    "pdf": "PDF",
    "png": "PNG",
    "jpeg": "JPEG",
    "docx": "Word (DOCX)",
    "odt": "OpenDocument text (ODT)",
}
REFERENCE_MAX = 200
REASON_MAX = 1000
UPLIFT_MAX = Decimal("100")
# The register's and placements' field names -> the forms' fields and the ids their error
# summary links go to (a date input's day box: GOV.UK links to a group's first field).
EXPIRES = ("expires", "#expires-day")
UPLIFT_FIELDS = {
    "requested_percent": ("percent", "#percent"),
    "effective_from": ("from", "#from-day"),
}


def _date(form: Any, prefix: str) -> date | None:
    try:
        return date(
            int(str(form.get(f"{prefix}-year", ""))),
            int(str(form.get(f"{prefix}-month", ""))),
            int(str(form.get(f"{prefix}-day", ""))),
        )
    except ValueError:
        return None


def _given(form: Any, *names: str) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip() for name in names}


def _size_words(size: int) -> str:
    mb = size / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{size // 1024} KB"


def file_limits(request: Request) -> dict[str, str]:
    """The upload limits in words, for the hint and the errors."""
    settings = request.app.state.settings
    names = [FILE_TYPES[n] for n in settings.allowed_document_types()]
    types = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return {"types": types, "size": _size_words(settings.document_max_bytes)}


async def _documents_page(
    request: Request, status_code: int = 200, errors: Any = None, form: Any = None
) -> Response:
    person, provider_id = provider_of(request)
    record = await registry.provider(api_for(request, person), provider_id)
    return page(
        request,
        "portal/documents.html",
        status_code,
        record=record,
        kinds=KINDS,
        limits=file_limits(request),
        errors=errors or [],
        form=form or {},
        proposed=request.query_params.get("proposed") == "1",
    )


@router.get("/portal/documents")
async def documents_page(request: Request) -> Response:
    return await _documents_page(request)


def _file_problem(text: str) -> dict[str, str]:
    return {"text": text, "href": "#file", "field": "file"}


def _problems(
    given: dict[str, str], expires: date | None, upload: UploadFile | None
) -> list[dict[str, str]]:
    problems = []
    if given["kind"] not in KINDS:
        problems.append({"text": "Select the document", "href": "#kind", "field": "kind"})
    if expires is None:
        text = "Enter the expiry date as a real date, like 31 8 2027"
        problems.append({"text": text, "href": "#expires-day", "field": "expires"})
    elif expires <= date.today():
        text = "The expiry date must be in the future"
        problems.append({"text": text, "href": "#expires-day", "field": "expires"})
    if len(given["reference"]) > REFERENCE_MAX:
        text = f"Reference must be {REFERENCE_MAX} characters or fewer"
        problems.append({"text": text, "href": "#reference", "field": "reference"})
    if upload is None or not upload.filename:
        problems.append(_file_problem("Select the document's file"))
    elif not upload.size:
        problems.append(_file_problem("The selected file is empty"))
    return problems


def _refused_file(request: Request, refused: ApiRefused) -> list[dict[str, str]]:
    """The register's 413/415/422 about the file, in words on the file field."""
    limits = file_limits(request)
    if refused.status == 413:
        return [_file_problem(f"The selected file must be smaller than {limits['size']}")]
    if refused.status == 415:
        return [_file_problem(f"The selected file must be a {limits['types']}")]
    return field_errors(refused.errors, {"file": "File", "body": "File"})


def _upload_of(form: FormData) -> UploadFile | None:
    found = form.get("file")
    return found if isinstance(found, UploadFile) else None


@router.post(
    "/portal/documents",
    # The console's edge lets a file through up to the most the limit may be set to;
    # the route itself caps it at DPS_DOCUMENT_MAX_BYTES as it reads.
    openapi_extra={MAX_BODY_EXTRA: DOCUMENT_CEILING_BYTES + FORM_ROOM},
)
async def propose(request: Request) -> Response:
    provider_of(request)
    too_large = file_limits(request)["size"]
    try:
        form = await checked_upload_form(request, request.app.state.settings.document_max_bytes)
    except UploadTooLarge:
        # Nothing of the form was read, so nothing is acted on (no CSRF to check).
        problem = _file_problem(f"The selected file must be smaller than {too_large}")
        return await _documents_page(request, 413, [problem])
    try:
        return await _propose(request, form)
    finally:
        await form.close()


async def _propose(request: Request, form: FormData) -> Response:
    person, provider_id = provider_of(request)
    given = _given(form, "kind", "reference", "expires-day", "expires-month", "expires-year")
    expires = _date(form, "expires")
    upload = _upload_of(form)
    problems = _problems(given, expires, upload)
    if problems or upload is None:
        return await _documents_page(request, 400, problems, given)
    api = form_api(request, person, form)
    try:
        await upload.seek(0)
        await registry.upload_document_file(
            api,
            provider_id,
            given["kind"],
            upload.filename or "document",
            upload.file,
            upload.content_type or "",
        )
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        return await _documents_page(
            request, refused.status, _refused_file(request, refused), given
        )
    record = await registry.provider(api, provider_id)
    # A provider's documents replace its earlier proposals: keep the other kinds' ones.
    kept = [
        {"kind": d["kind"], "expires_on": d["proposed_expires_on"], "reference": d["reference"]}
        for d in record.get("documents_awaiting_verification", [])
        if d["kind"] != given["kind"]
    ]
    new = {
        "kind": given["kind"],
        "expires_on": expires.isoformat() if expires else "",
        "reference": given["reference"] or None,
    }
    try:
        await portal.propose_documents(api, provider_id, [*kept, new])
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        labels = {"documents": "Document", "kind": "Document", "expires_on": "Expiry date"}
        errors = field_errors(refused.errors, labels, {"expires_on": EXPIRES})
        return await _documents_page(request, 400, errors, given)
    return RedirectResponse("/portal/documents?proposed=1", status_code=303)


async def _placement_page(
    request: Request,
    placement_id: str,
    status_code: int = 200,
    errors: Any = None,
    form: Any = None,
) -> Response:
    person, _ = provider_of(request)
    # Placements answers 404 for another provider's placement.
    api = api_for(request, person)
    found = await portal.placement(api, placement_id)
    scheme_ref = found.get("scheme_ref")
    return page(
        request,
        "portal/placement.html",
        status_code,
        placement=found,
        regime=contract_regime(scheme_ref, await schemes.regime_of(api, scheme_ref)),
        errors=errors or [],
        form=form or {},
        requested=request.query_params.get("requested") == "1",
    )


@router.get("/portal/placements/{placement_id}")
async def placement_page(request: Request, placement_id: str) -> Response:
    return await _placement_page(request, placement_id)


@router.post("/portal/placements/{placement_id}/uplift")
async def uplift(request: Request, placement_id: str) -> Response:
    person, _ = provider_of(request)
    form = await checked_form(request)
    given = _given(form, "percent", "reason", "from-day", "from-month", "from-year")
    starts = _date(form, "from")
    problems = []
    try:
        percent = Decimal(given["percent"].rstrip("%"))
        if not Decimal(0) < percent <= UPLIFT_MAX:
            raise InvalidOperation
    except InvalidOperation:
        text = "Enter the uplift as a percentage above 0 and up to 100, like 3.5"
        problems.append({"text": text, "href": "#percent", "field": "percent"})
        percent = Decimal(0)
    if starts is None:
        text = "Enter the date the uplift would start, like 1 4 2027"
        problems.append({"text": text, "href": "#from-day", "field": "from"})
    if not given["reason"]:
        text = "Enter the evidence for the uplift"
        problems.append({"text": text, "href": "#reason", "field": "reason"})
    elif len(given["reason"]) > REASON_MAX:
        text = f"Evidence must be {REASON_MAX} characters or fewer"
        problems.append({"text": text, "href": "#reason", "field": "reason"})
    if problems:
        return await _placement_page(request, placement_id, 400, problems, given)
    body = {
        "requested_percent": str(percent),
        "effective_from": starts.isoformat() if starts else "",
        "reason": given["reason"],
    }
    try:
        await portal.request_uplift(form_api(request, person, form), placement_id, body)
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        labels = {"requested_percent": "Uplift", "effective_from": "Start", "reason": "Evidence"}
        errors = field_errors(refused.errors, labels, UPLIFT_FIELDS)
        return await _placement_page(request, placement_id, 400, errors, given)
    return RedirectResponse(f"/portal/placements/{placement_id}?requested=1", status_code=303)
