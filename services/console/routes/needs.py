"""Placement needs (placements `GET /needs`) and opening a call-off from one by hand.

A need raised by the panel normally opens its call-off by itself (procurement consumes
placement.need.raised); by hand is for a need no open scheme took, or one to re-run on
another scheme or lot. The pages and the call-off carry only the need's opaque id, its
primary need, attendance and the child's age at the start: never the child's reference,
name or date of birth (UK GDPR Art. 9; the call-off's title is published to providers)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from services.console.clients import ApiRefused, calloffs, casework, schemes
from services.console.regimes import regime_words
from services.console.render import page, pagination
from services.console.web import (
    api_for,
    checked_form,
    form_api,
    person_of,
    refused_form,
)

router = APIRouter()
READERS = ("commissioner", "monitoring_officer")
# Opening a call-off is the commissioner's (services/procurement/policy.py).
OPENER = "commissioner"
PAGE_SIZE = 25
STATUSES = ("open", "block_place_offered", "with_procurement", "placed", "withdrawn")
LONDON = ZoneInfo("Europe/London")
URGENT_MAX = 1000
LABELS = {
    "choice": "Scheme and category",
    "scheme_id": "Scheme and category",
    "category_code": "Scheme and category",
    "deadline": "Deadline",
    "deadline_at": "Deadline",
    "urgent_reason": "Reason for a shorter tender period",
    "filter": "Who is invited",
    "title": "Call-off",
}


@router.get("/needs")
async def need_list(
    request: Request,
    status: str = Query(default="", max_length=30),
    page_number: int = Query(default=1, alias="page", ge=1, le=10_000),
) -> Response:
    person = person_of(request, *READERS)
    chosen = status if status in STATUSES else ""
    found = await casework.needs(
        api_for(request, person), chosen, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE
    )
    pages = max(1, -(-int(found["total"]) // PAGE_SIZE))
    return page(
        request,
        "needs/list.html",
        needs=[shown(n) for n in found["items"]],
        total=found["total"],
        status=chosen,
        statuses=STATUSES,
        pagination=pagination(f"/needs?status={chosen}&page=", min(page_number, pages), pages),
        may_open=person.role == OPENER,
    )


def age_at(date_of_birth: str | None, on: str) -> int | None:
    """The child's age in whole years on the day (the call-off screens by it)."""
    if not date_of_birth:
        return None
    born, day = date.fromisoformat(date_of_birth), date.fromisoformat(on)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def shown(need: dict[str, Any]) -> dict[str, Any]:
    """What the console shows of a need: no child reference and no date of birth."""
    keep = ("need_id", "primary_need", "attendance", "required_start", "status", "urgent")
    view = {k: need.get(k) for k in keep}
    view["age_at_start"] = age_at(need.get("date_of_birth"), need["required_start"])
    return view


def call_off_title(need: dict[str, Any]) -> str:
    """As procurement titles a call-off it opens from a need (handlers.need_title)."""
    return f"Individual placement: {need['attendance']}, need {need['need_id']}"


def choices(found: list[dict[str, Any]], need: dict[str, Any]) -> list[dict[str, Any]]:
    """Every category of every open scheme, those that serve the need first."""
    listed = []
    for s in found:
        if s["status"] != "open":
            continue
        for c in s["categories"]:
            fits = need["primary_need"] in c["need_types"] and need["attendance"] in c["attendance"]
            listed.append(
                {
                    "value": f"{s['scheme_id']}|{c['code']}",
                    # Which law the call-off would run under, as every page says it.
                    "text": (
                        f"{s['title']} ({s['reference']}, {regime_words(s.get('regime'), s.get('light_touch'))}): "
                        f"{c['name']}"
                    ),
                    "fits": fits,
                    "scheme": s,
                }
            )
    return sorted(listed, key=lambda c: not c["fits"])


async def _show(
    request: Request,
    need_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    given: dict[str, str] | None = None,
) -> Response:
    person = person_of(request, OPENER)
    api = api_for(request, person)
    need, found = await asyncio.gather(casework.need(api, need_id), schemes.schemes(api))
    return page(
        request,
        "needs/call_off.html",
        status_code,
        need=shown(need),
        title=call_off_title(need),
        choices=choices(found, need),
        errors=errors or [],
        form=given or {},
    )


@router.get("/needs/{need_id}/call-off")
async def call_off_form(request: Request, need_id: str) -> Response:
    return await _show(request, need_id)


def _problem(field: str, text: str) -> dict[str, str]:
    href = "#deadline-day" if field == "deadline" else f"#{field}"
    return {"text": text, "href": href, "field": field}


def _deadline(given: dict[str, str]) -> tuple[str | None, list[dict[str, str]]]:
    """The deadline as an aware instant (the form's date and time are London's)."""
    parts = [given[f"deadline-{p}"] for p in ("year", "month", "day")]
    if not all(parts):
        return None, [_problem("deadline", "Enter the deadline for bids")]
    try:
        day = date(int(parts[0]), int(parts[1]), int(parts[2]))
        at = time.fromisoformat(given["deadline_time"] or "12:00")
    except ValueError:
        return None, [_problem("deadline", "Deadline must be a real date and time (like 14:30)")]
    return datetime.combine(day, at, tzinfo=LONDON).isoformat(), []


def _given(form: FormData) -> dict[str, str]:
    names = ("choice", "deadline-day", "deadline-month", "deadline-year", "deadline_time")
    return {k: str(form.get(k, "")).strip() for k in (*names, "urgent_reason")}


def body_of(
    given: dict[str, str], need: dict[str, Any], found: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    problems = []
    chosen = {c["value"]: c for c in choices(found, need)}.get(given["choice"])
    if chosen is None:
        problems.append(_problem("choice", "Select the scheme and category"))
    deadline, wrong = _deadline(given)
    problems += wrong
    if len(given["urgent_reason"]) > URGENT_MAX:
        text = f"Reason must be {URGENT_MAX} characters or fewer"
        problems.append(_problem("urgent_reason", text))
    if problems or chosen is None:
        return {}, problems
    scheme_id, category = given["choice"].split("|", 1)
    criteria: dict[str, Any] = {"need_type": need["primary_need"], "attendance": need["attendance"]}
    age = shown(need)["age_at_start"]
    if chosen["scheme"].get("screening_applies") and age is not None:
        criteria["min_age"] = criteria["max_age"] = age  # only where the scheme published it
    body = {
        "scheme_id": scheme_id,
        "category_code": category,
        "kind": "individual",
        "title": call_off_title(need),
        "need_ref": need["need_id"],
        "filter": criteria,
        "deadline_at": deadline,
        "urgent_reason": given["urgent_reason"] or None,
    }
    return body, []


def service_errors(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    items = []
    for error in errors:
        top = error["field"].split(".")[0]
        field = {"deadline_at": "deadline", "scheme_id": "choice", "category_code": "choice"}.get(
            top, top
        )
        label = LABELS.get(top, top.replace("_", " "))
        # Procurement's rule code in words, then why (its message), as the officer expects.
        rule = error["rule"].replace("_", " ")
        if error.get("message"):
            rule = f"{rule}: {error['message']}"
        target = field if field in ("choice", "deadline", "urgent_reason") else "main-content"
        item = _problem(target, f"{label}: {rule}")
        items.append(item)
    return items


@router.post("/needs/{need_id}/call-off")
async def open_call_off(request: Request, need_id: str) -> Response:
    person = person_of(request, OPENER)
    form = await checked_form(request)
    api = form_api(request, person, form)
    given = _given(form)
    need, found = await asyncio.gather(casework.need(api, need_id), schemes.schemes(api))
    body, problems = body_of(given, need, found)
    if problems:
        return await _show(request, need_id, 400, problems, given)
    try:
        done = await calloffs.open_call_off(api, body)
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is None:
            return RedirectResponse("/call-offs", status_code=303)
        return await _show(request, need_id, 400, service_errors(refusal), given)
    return RedirectResponse(f"/call-offs/{done['competition_id']}?done=opened", status_code=303)
