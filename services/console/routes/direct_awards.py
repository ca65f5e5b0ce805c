"""A direct award under the Procurement Act 2023 (s.41, Schedule 5) for a need: a user
choice contract (para 15: a parent's preference for a named setting) or extreme and
unavoidable urgency (para 13). The commissioner records the ground, its justification,
the provider, the value and dates; procurement decides which notices must come first
(transparency, s.44; contract award, s.50) and whether a standstill applies (s.51), and
the page afterwards shows that, each with its source."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from services.console.clients import ApiRefused, procurement
from services.console.render import page
from services.console.routes.applications import provider_names
from services.console.web import (
    api_for,
    checked_form,
    field_errors,
    form_api,
    person_of,
    refused_form,
    refused_status,
    still_in_progress,
)

router = APIRouter()
# services/procurement/policy.py: recording is the commissioner's; both read it.
COMMISSIONER = "commissioner"
READERS = ("commissioner", "monitoring_officer")
ACT = "Procurement Act 2023"
# The grounds the form offers, in words, each with its source (the service holds the
# rules: services/procurement/domain/direct_awards.py GROUNDS).
GROUNDS = {
    "user_choice": (
        "User choice contract",
        f"{ACT} s.41, Schedule 5 para 15: the award gives effect to the preference of the "
        "person the services are for (or someone acting for them), such as a parent's "
        "preference for a named school",
    ),
    "extreme_urgency": (
        "Extreme and unavoidable urgency",
        f"{ACT} s.41, Schedule 5 para 13: strictly necessary for reasons of extreme and "
        "unavoidable urgency the council could not foresee, so a competitive call-off "
        "could not finish in time; the contract has an end date",
    ),
}
TEXT_MAX = 5000
LABELS = {
    "need_ref": "Need reference",
    "provider_id": "Provider",
    "ground": "Ground",
    "justification": "Justification",
    "contract_value": "Contract value",
    "start_date": "Start date",
    "end_date": "End date",
    "voluntary_standstill": "Voluntary standstill",
    "scheme_id": "Scheme",
}
# A date's message shows on its group; the summary links to the day box (focusable).
MOVED = {
    "start_date": ("start_date", "#start_date-day"),
    "end_date": ("end_date", "#end_date-day"),
}
FIELDS = ("need_ref", "provider_id", "ground", "justification", "contract_value")
DATE_PARTS = ("day", "month", "year")


def given_of(form: FormData) -> dict[str, str]:
    given = {k: str(form.get(k, "")).strip() for k in FIELDS}
    for name in ("start_date", "end_date"):
        for part in DATE_PARTS:
            key = f"{name}-{part}"
            given[key] = str(form.get(key, "")).strip()
    given["light_touch"] = "yes" if form.get("light_touch") == "yes" else ""
    given["voluntary_standstill"] = "yes" if form.get("voluntary_standstill") == "yes" else ""
    return given


def _date(given: dict[str, str], name: str) -> tuple[date | None, bool]:
    """(the date, whether anything was typed) from a GOV.UK date input's three boxes."""
    parts = [given[f"{name}-{p}"] for p in DATE_PARTS]
    if not any(parts):
        return None, False
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0])), True
    except ValueError:
        return None, True


def _problem(field: str, text: str) -> dict[str, str]:
    href = MOVED[field][1] if field in MOVED else f"#{field}"
    return {"text": text, "href": href, "field": field}


def body_of(given: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The service's body, and what is missing or not readable (the service checks the
    rest: an end before the start, an urgent award without an end date)."""
    problems = []
    if not given["need_ref"]:
        problems.append(_problem("need_ref", "Enter the need's reference"))
    if not given["provider_id"]:
        problems.append(_problem("provider_id", "Choose the provider"))
    if given["ground"] not in GROUNDS:
        problems.append(_problem("ground", "Choose the ground for the direct award"))
    if not given["justification"]:
        problems.append(_problem("justification", "Enter why the ground applies"))
    elif len(given["justification"]) > TEXT_MAX:
        text = f"Justification must be {TEXT_MAX} characters or fewer"
        problems.append(_problem("justification", text))
    value = given["contract_value"].replace(",", "").removeprefix("£")
    try:
        amount = Decimal(value)
        readable = amount.is_finite() and amount >= 0 and amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        readable = False
    if not readable:
        text = "Enter the contract value in pounds, for example 48000.00"
        problems.append(_problem("contract_value", text))
    start, typed = _date(given, "start_date")
    if start is None:
        text = "Start date must be a real date" if typed else "Enter the start date"
        problems.append(_problem("start_date", text))
    end, typed = _date(given, "end_date")
    if end is None and typed:
        problems.append(_problem("end_date", "End date must be a real date"))
    if problems:
        return {}, problems
    body: dict[str, Any] = {
        "ground": given["ground"],
        "justification": given["justification"],
        "provider_id": given["provider_id"],
        "contract_value": value,
        "start_date": start.isoformat() if start else None,
        "end_date": end.isoformat() if end else None,
        "need_ref": given["need_ref"],
        "light_touch": given["light_touch"] == "yes",
        "voluntary_standstill": given["voluntary_standstill"] == "yes",
    }
    return body, []


async def _form_page(
    request: Request,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    given: dict[str, str] | None = None,
) -> Response:
    person = person_of(request, COMMISSIONER)
    names = await provider_names(api_for(request, person))
    form = given or {**given_of(FormData()), "light_touch": "yes"}
    return page(
        request,
        "direct_awards/form.html",
        status_code,
        errors=errors or [],
        form=form,
        grounds=GROUNDS,
        providers=[{"value": "", "text": "Choose a provider"}]
        + [
            {"value": pid, "text": name, "selected": pid == form["provider_id"]}
            for pid, name in sorted(names.items(), key=lambda kv: kv[1])
        ],
        named=bool(names),
    )


@router.get("/direct-awards/new")
async def new_direct_award(
    request: Request, need_ref: str = Query(default="", max_length=100)
) -> Response:
    given = {**given_of(FormData()), "light_touch": "yes", "need_ref": need_ref.strip()}
    return await _form_page(request, given=given)


@router.post("/direct-awards/new")
async def record_direct_award(request: Request) -> Response:
    person = person_of(request, COMMISSIONER)
    form = await checked_form(request)
    given = given_of(form)
    body, problems = body_of(given)
    if problems:
        return await _form_page(request, 400, problems, given)
    try:
        done = await procurement.record_direct_award(form_api(request, person, form), body)
    except ApiRefused as refused:
        if still_in_progress(refused.errors):
            return RedirectResponse("/notices", status_code=303)
        errors = refused_form(refused) or []
        shown = field_errors(errors, LABELS, MOVED)
        return await _form_page(request, refused_status(refused), shown, given)
    return RedirectResponse(f"/direct-awards/{done['direct_award_id']}?saved=1", status_code=303)


@router.get("/direct-awards/{direct_award_id}")
async def direct_award_page(request: Request, direct_award_id: str) -> Response:
    person = person_of(request, *READERS)
    api = api_for(request, person)
    found = await procurement.direct_award(api, direct_award_id)
    names = await provider_names(api)
    return page(
        request,
        "direct_awards/page.html",
        award=found,
        provider=names.get(found["provider_id"], found["provider_id"]),
        saved=request.query_params.get("saved") == "1",
    )
