"""Placements: a searchable, paginated list with a CSV download, a placement's page
(contract, fee history, reviews, variations, uplifts) and the commissioner's forms to
record a review outcome, decide an uplift and end a placement."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused
from services.console.clients import casework as casework_api
from services.console.clients import schemes as schemes_api
from services.console.regimes import contract_regime, contract_tag
from services.console.render import page
from services.console.web import api_for, checked_form, form_api, person_of

router = APIRouter()
# Placements' policy (services/placements/policy.py): the council reads, the commissioner
# decides; the console offers the forms only to those the service would let act.
READERS = ("commissioner", "monitoring_officer")
DECIDERS = ("commissioner",)
PAGE_SIZE = 25
STATUSES = ("pending", "active", "ending", "ended", "terminated")
OUTCOMES = ("continue", "vary", "end")
REASON_MAX = 1000
FILTERS = ("provider_id", "child_ref", "status", "review_due_before")
CSV_COLUMNS = (
    "placement_id",
    "child_ref",
    "provider_id",
    "provider_name",
    "primary_need",
    "attendance",
    "status",
    "source",
    "basis",
    "start_date",
    "term_end",
    "end_date",
)
# The law each placement's contract was let under, in words (after the service's columns).
REGIME_COLUMN = "regime"


def _filters(request: Request) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The search form's values, and an error for each one placements would refuse."""
    raw = {name: request.query_params.get(name, "").strip()[:64] for name in FILTERS}
    errors = []
    if raw["status"] and raw["status"] not in STATUSES:
        raw["status"] = ""
    if raw["review_due_before"]:
        try:
            date.fromisoformat(raw["review_due_before"])
        except ValueError:
            errors.append(
                {
                    "text": "Review due before must be a real date, like 2026-03-31",
                    "href": "#review_due_before",
                    "field": "review_due_before",
                }
            )
    return raw, errors


def _access_reason(request: Request) -> str:
    # Optional: the read is audited either way; a reason given goes with it.
    return request.query_params.get("reason", "").strip()[:200]


@router.get("/placements")
async def placement_list(
    request: Request, offset: int = Query(default=0, ge=0, le=1_000_000)
) -> Response:
    person = person_of(request, *READERS)
    filters, errors = _filters(request)
    reason = _access_reason(request)
    found: dict[str, Any] = {"items": [], "total": 0}
    api = api_for(request, person)
    regimes: dict[str, str] = {}
    if not errors:
        found, regimes = await asyncio.gather(
            casework_api.search(api, filters, limit=PAGE_SIZE, offset=offset, reason=reason),
            schemes_api.regimes(api),
        )
    query = urlencode({k: v for k, v in {**filters, "reason": reason}.items() if v})
    return page(
        request,
        "placements/list.html",
        400 if errors else 200,
        found=found,
        let_under={
            p["placement_id"]: contract_tag(
                p.get("scheme_ref"), regimes.get(p.get("scheme_ref") or "")
            )
            for p in found["items"]
        },
        filters=filters,
        reason=reason,
        errors=errors,
        statuses=STATUSES,
        offset=offset,
        page_size=PAGE_SIZE,
        query=query,
    )


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula is written as text (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/placements.csv")
async def placement_csv(request: Request) -> Response:
    person = person_of(request, *READERS)
    filters, errors = _filters(request)
    if errors:
        return await placement_list(request)
    api = api_for(request, person)
    items, regimes = await asyncio.gather(
        casework_api.search_all(api, filters, _access_reason(request)), schemes_api.regimes(api)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS, REGIME_COLUMN])
    for item in items:
        ref = item.get("scheme_ref")
        cells = [item.get(column) for column in CSV_COLUMNS]
        cells.append(contract_regime(ref, regimes.get(ref or "")))
        writer.writerow([_csv_cell(cell) for cell in cells])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="placements.csv"'},
    )


async def _show(
    request: Request,
    placement_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    person = person_of(request, *READERS)
    api = api_for(request, person)
    found = await casework_api.placement(api, placement_id, _access_reason(request))
    scheme_ref = found.get("scheme_ref")
    reviews = found.get("reviews", [])
    open_review = next((r for r in reviews if r.get("outcome") is None), None)
    return page(
        request,
        "placements/placement.html",
        status_code,
        placement=found,
        regime=contract_regime(scheme_ref, await schemes_api.regime_of(api, scheme_ref)),
        open_review=open_review,
        variations=[f for f in found.get("fee_history", []) if f.get("kind") == "variation"],
        pending_uplifts=[u for u in found.get("uplifts", []) if u.get("decision") is None],
        may_decide=person.role in DECIDERS,
        errors=errors or [],
        form=form or {},
        done=request.query_params.get("done", ""),
    )


@router.get("/placements/{placement_id}")
async def placement_page(request: Request, placement_id: str) -> Response:
    return await _show(request, placement_id)


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


def _refused(refused: ApiRefused, ids: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
    """Placements' `{field, rule}` errors against this form's fields: `ids` maps the API's
    field name to (label, the form element's id)."""
    items = []
    for error in refused.errors:
        name = error["field"].split(".")[-1]
        label, element = ids.get(name, ("", "main-content"))
        rule = error.get("message") or error["rule"].replace("_", " ")
        items.append(
            {"text": f"{label}: {rule}" if label else rule, "href": f"#{element}", "field": element}
        )
    return items


def _back(placement_id: str, done: str) -> Response:
    return RedirectResponse(f"/placements/{placement_id}?done={done}", status_code=303)


@router.post("/placements/{placement_id}/reviews/{review_id}/outcome")
async def review_outcome(request: Request, placement_id: str, review_id: str) -> Response:
    person = person_of(request, *DECIDERS)
    form = await checked_form(request)
    outcome = str(form.get("outcome", ""))
    if outcome not in OUTCOMES:
        errors = [_problem("outcome", "Select the outcome of the review")]
        return await _show(request, placement_id, 400, errors)
    try:
        await casework_api.record_review(
            form_api(request, person, form), placement_id, review_id, outcome
        )
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        errors = _refused(refused, {"outcome": ("Outcome", "outcome")})
        return await _show(request, placement_id, 400, errors, {"outcome": outcome})
    return _back(placement_id, "review")


@router.post("/placements/{placement_id}/uplifts/{uplift_id}/decision")
async def uplift_decision(request: Request, placement_id: str, uplift_id: str) -> Response:
    person = person_of(request, *DECIDERS)
    form = await checked_form(request)
    values = {
        "decision": str(form.get("decision", "")),
        "approved_percent": str(form.get("approved_percent", "")).strip(),
        "uplift_reason": str(form.get("uplift_reason", "")).strip(),
    }
    errors = []
    if values["decision"] not in ("approved", "rejected"):
        errors.append(_problem("decision", "Select whether the uplift is approved or rejected"))
    body: dict[str, Any] = {"decision": values["decision"]}
    if values["approved_percent"]:
        try:
            percent = Decimal(values["approved_percent"].rstrip("%"))
            if not percent.is_finite():
                raise InvalidOperation
            body["approved_percent"] = str(percent)
        except InvalidOperation:
            errors.append(
                _problem("approved_percent", "Approved uplift must be a number, like 3.5")
            )
    if len(values["uplift_reason"]) > REASON_MAX:
        errors.append(_problem("uplift_reason", f"Reason must be {REASON_MAX} characters or fewer"))
    if values["uplift_reason"]:
        body["reason"] = values["uplift_reason"]
    if errors:
        return await _show(request, placement_id, 400, errors, values)
    try:
        await casework_api.decide_uplift(form_api(request, person, form), uplift_id, body)
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        ids = {
            "decision": ("Decision", "decision"),
            "approved_percent": ("Approved uplift", "approved_percent"),
            "reason": ("Reason", "uplift_reason"),
            "uplift_id": ("Uplift", "decision"),
        }
        return await _show(request, placement_id, 400, _refused(refused, ids), values)
    return _back(placement_id, "uplift")


@router.post("/placements/{placement_id}/end")
async def end_placement(request: Request, placement_id: str) -> Response:
    person = person_of(request, *DECIDERS)
    form = await checked_form(request)
    values = {
        "by": str(form.get("by", "")),
        "terminate": "yes" if form.get("terminate") == "yes" else "",
        "end_reason": str(form.get("end_reason", "")).strip(),
    }
    errors = []
    if values["by"] not in ("council", "provider"):
        errors.append(_problem("by", "Select who is ending the placement"))
    if not values["end_reason"]:
        errors.append(_problem("end_reason", "Enter why the placement is ending"))
    elif len(values["end_reason"]) > REASON_MAX:
        errors.append(_problem("end_reason", f"Reason must be {REASON_MAX} characters or fewer"))
    if errors:
        return await _show(request, placement_id, 400, errors, values)
    body = {
        "by": values["by"],
        "terminate": values["terminate"] == "yes",
        "reason": values["end_reason"],
    }
    try:
        await casework_api.end(form_api(request, person, form), placement_id, body)
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        ids = {
            "by": ("Ended by", "by"),
            "reason": ("Reason", "end_reason"),
            "status": ("Placement", "end_reason"),
        }
        return await _show(request, placement_id, 400, _refused(refused, ids), values)
    return _back(placement_id, "ended")
