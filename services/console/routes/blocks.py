"""Block contracts: a list with each block's utilisation over a period (and a CSV), a
block's page (its places and the placements filling them, by placement id only, its
utilisation by month as a chart and a table, its offers and its renewal decision), and
the commissioner's form to create a block contract."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from services.console.charts import Chart, bar_chart
from services.console.clients import ApiRefused
from services.console.clients import blocks as blocks_api
from services.console.render import page
from services.console.web import api_for, checked_form, form_api, person_of
from shared.contracts.common import Attendance, NeedType

router = APIRouter()
# Placements' policy (services/placements/policy.py): the council reads block contracts,
# the commissioner creates them and decides their renewal.
READERS = ("commissioner", "monitoring_officer")
DECIDERS = ("commissioner",)
PAGE_SIZE = 25
REASON_MAX = 1000
NEEDS = tuple(n.value for n in NeedType)
ATTENDANCES = tuple(a.value for a in Attendance)
RENEWALS = ("renew", "reprocure", "end")
CSV_COLUMNS = (
    "block_contract_id",
    "provider_id",
    "provider_name",
    "primary_need",
    "attendance",
    "term_start",
    "term_end",
    "places",
    "places_filled",
    "utilisation_from",
    "utilisation_to",
    "utilisation_percent",
    "average_places_filled",
    "weekly_fee_per_place_total",
    "weekly_cost_per_filled_place",
)
# The create form's fields: (label, how it is read) — the API's field names as well.
FIELDS = {
    "provider_id": "Provider ID",
    "primary_need": "Primary need",
    "attendance": "Attendance",
    "places": "Number of places",
    "term_start": "Term starts",
    "term_end": "Term ends",
    "weekly_fee_per_place": "Weekly fee per place",
    "notice_period_weeks": "Notice period",
    "weeks_per_year": "Weeks per year",
    "competition_ref": "Competition reference",
}


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


def _date_error(raw: str, field: str, label: str) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        date.fromisoformat(raw)
    except ValueError:
        return _problem(field, f"{label} must be a real date, like 2026-03-31")
    return None


def _filters(request: Request) -> tuple[dict[str, str], list[dict[str, str]]]:
    raw = {
        name: request.query_params.get(name, "").strip()[:64]
        for name in ("provider_id", "from", "to")
    }
    errors = [
        e
        for e in (
            _date_error(raw["from"], "from", "Period from"),
            _date_error(raw["to"], "to", "Period to"),
        )
        if e
    ]
    if not errors and raw["from"] and raw["to"] and raw["to"] < raw["from"]:
        errors.append(_problem("to", "Period to must be on or after period from"))
    return raw, errors


def _refused(refused: ApiRefused) -> list[dict[str, str]]:
    """Placements' `{field, rule}` errors against the form's fields."""
    items = []
    for error in refused.errors:
        name = error["field"].split(".")[-1]
        label = FIELDS.get(name, "")
        rule = error.get("message") or error["rule"].replace("_", " ")
        element = name if name in FIELDS else "main-content"
        items.append(
            {"text": f"{label}: {rule}" if label else rule, "href": f"#{element}", "field": element}
        )
    return items


@router.get("/block-contracts")
async def block_list(
    request: Request, offset: int = Query(default=0, ge=0, le=1_000_000)
) -> Response:
    person = person_of(request, *READERS)
    filters, errors = _filters(request)
    found: dict[str, Any] = {"items": [], "total": 0}
    if not errors:
        found = await blocks_api.block_contracts(
            api_for(request, person), filters, limit=PAGE_SIZE, offset=offset
        )
    query = urlencode({k: v for k, v in filters.items() if v})
    return page(
        request,
        "placements/blocks.html",
        400 if errors else 200,
        found=found,
        filters=filters,
        errors=errors,
        offset=offset,
        page_size=PAGE_SIZE,
        query=query,
        may_create=person.role in DECIDERS,
    )


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula is written as text (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(item: dict[str, Any]) -> list[str]:
    used = item.get("utilisation") or {}
    flat = {
        **item,
        "utilisation_from": used.get("from"),
        "utilisation_to": used.get("to"),
        "utilisation_percent": used.get("percent"),
        "average_places_filled": used.get("average_places_filled"),
    }
    return [_csv_cell(flat.get(column)) for column in CSV_COLUMNS]


@router.get("/block-contracts.csv")
async def block_csv(request: Request) -> Response:
    person = person_of(request, *READERS)
    filters, errors = _filters(request)
    if errors:
        return await block_list(request)
    items = await blocks_api.all_block_contracts(api_for(request, person), filters)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow(_csv_row(item))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="block-contracts.csv"'},
    )


# --- creating a block contract (commissioner) ---------------------------------------------


def _new_form(
    request: Request,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return page(
        request,
        "placements/block_new.html",
        status_code,
        errors=errors or [],
        form=form or {"notice_period_weeks": "12"},
        needs=NEEDS,
        attendances=ATTENDANCES,
    )


@router.get("/block-contracts/new")
async def block_new(request: Request) -> Response:
    person_of(request, *DECIDERS)
    return _new_form(request)


def _whole(values: dict[str, str], field: str, errors: list[dict[str, str]]) -> int | None:
    try:
        return int(values[field])
    except ValueError:
        errors.append(_problem(field, f"{FIELDS[field]} must be a whole number, like 12"))
        return None


def _money(values: dict[str, str], field: str, errors: list[dict[str, str]]) -> str | None:
    try:
        amount = Decimal(values[field].replace(",", "").lstrip("£"))
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors.append(_problem(field, f"{FIELDS[field]} must be an amount, like 1800.00"))
        return None
    return str(amount)


def _block_body(form: FormData) -> tuple[dict[str, str], dict[str, Any], list[dict[str, str]]]:
    """The form's values, the API body and an error for each field left wrong."""
    values = {name: str(form.get(name, "")).strip()[:200] for name in FIELDS}
    errors: list[dict[str, str]] = []
    for name in ("provider_id", "places", "term_start", "term_end", "weekly_fee_per_place"):
        if not values[name]:
            errors.append(_problem(name, f"Enter the {FIELDS[name].lower()}"))
    if values["primary_need"] not in NEEDS:
        errors.append(_problem("primary_need", "Select the primary need"))
    if values["attendance"] not in ATTENDANCES:
        errors.append(_problem("attendance", "Select the attendance"))
    body: dict[str, Any] = {
        "provider_id": values["provider_id"],
        "primary_need": values["primary_need"],
        "attendance": values["attendance"],
    }
    for name in ("term_start", "term_end"):
        problem = _date_error(values[name], name, FIELDS[name])
        if problem:
            errors.append(problem)
        body[name] = values[name]
    if values["places"]:
        body["places"] = _whole(values, "places", errors)
    if values["weekly_fee_per_place"]:
        body["weekly_fee_per_place"] = _money(values, "weekly_fee_per_place", errors)
    if values["notice_period_weeks"]:
        body["notice_period_weeks"] = _whole(values, "notice_period_weeks", errors)
    if values["weeks_per_year"]:
        body["weeks_per_year"] = _whole(values, "weeks_per_year", errors)
    if values["competition_ref"]:
        body["competition_ref"] = values["competition_ref"]
    return values, body, errors


@router.post("/block-contracts")
async def block_create(request: Request) -> Response:
    person = person_of(request, *DECIDERS)
    form = await checked_form(request)
    values, body, errors = _block_body(form)
    if errors:
        return _new_form(request, 400, errors, values)
    try:
        made = await blocks_api.create_block_contract(form_api(request, person, form), body)
    except ApiRefused as refused:
        if refused.status in (403, 404):
            raise
        return _new_form(request, 400, _refused(refused), values)
    return RedirectResponse(
        f"/block-contracts/{made['block_contract_id']}?done=created", status_code=303
    )


# --- a block contract's page ----------------------------------------------------------------


def _chart(block: dict[str, Any]) -> Chart:
    months = block.get("utilisation_by_month", [])
    return bar_chart(
        "Places filled by month",
        [
            (
                date.fromisoformat(m["from"]).strftime("%B %Y"),
                Decimal(m["percent"]),
                f"{m['percent']}% ({m['average_places_filled']} of {block['places']} places)",
            )
            for m in months
        ],
    )


def _places(block: dict[str, Any]) -> list[dict[str, Any]]:
    """Each place and who holds it: a placement (by id), an offer awaiting the provider
    (a need, shown without its id), or no one."""
    placed = {p["placement_id"] for p in block.get("placements", [])}
    places = []
    for occupant in block.get("occupants", []):
        ref = occupant["occupant_ref"]
        held = "placement" if ref in placed else ("offered" if ref else "free")
        places.append({"number": occupant["place_number"], "held": held, "placement_id": ref})
    return places


async def _show(
    request: Request,
    block_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    person = person_of(request, *READERS)
    filters, period_errors = _filters(request)
    period = {} if period_errors else {k: filters[k] for k in ("from", "to")}
    block = await blocks_api.block_contract(api_for(request, person), block_id, period)
    renewal = block.get("renewal") or {}
    return page(
        request,
        "placements/block.html",
        status_code if not period_errors else 400,
        block=block,
        chart=_chart(block),
        places=_places(block),
        filters=filters,
        may_decide=person.role in DECIDERS,
        renewal_open=renewal.get("decided_for") != block["term_end"],
        errors=(errors or []) + period_errors,
        form=form or {},
        done=request.query_params.get("done", ""),
    )


@router.get("/block-contracts/{block_id}")
async def block_page(request: Request, block_id: str) -> Response:
    return await _show(request, block_id)


@router.post("/block-contracts/{block_id}/renewal")
async def block_renewal(request: Request, block_id: str) -> Response:
    person = person_of(request, *DECIDERS)
    form = await checked_form(request)
    values = {
        "decision": str(form.get("decision", "")),
        "new_term_end": str(form.get("new_term_end", "")).strip()[:20],
        "renewal_reason": str(form.get("renewal_reason", "")).strip(),
    }
    errors = []
    if values["decision"] not in RENEWALS:
        errors.append(_problem("decision", "Select what happens at the end of the term"))
    if values["decision"] == "renew" and not values["new_term_end"]:
        errors.append(_problem("new_term_end", "Enter the new term end to renew"))
    problem = _date_error(values["new_term_end"], "new_term_end", "New term end")
    if problem:
        errors.append(problem)
    if not values["renewal_reason"]:
        errors.append(_problem("renewal_reason", "Enter the reason for the decision"))
    elif len(values["renewal_reason"]) > REASON_MAX:
        errors.append(
            _problem("renewal_reason", f"Reason must be {REASON_MAX} characters or fewer")
        )
    if errors:
        return await _show(request, block_id, 400, errors, values)
    body: dict[str, Any] = {"decision": values["decision"], "reason": values["renewal_reason"]}
    if values["decision"] == "renew":
        body["new_term_end"] = values["new_term_end"]
    try:
        await blocks_api.decide_renewal(form_api(request, person, form), block_id, body)
    except ApiRefused as refused:
        if refused.status in (403, 404):
            raise
        ids = {"decision": "decision", "new_term_end": "new_term_end", "reason": "renewal_reason"}
        problems = [
            _problem(
                ids.get(e["field"].split(".")[-1], "decision"),
                e.get("message") or e["rule"].replace("_", " "),
            )
            for e in refused.errors
        ]
        return await _show(request, block_id, 400, problems, values)
    return RedirectResponse(f"/block-contracts/{block_id}?done=renewal", status_code=303)
