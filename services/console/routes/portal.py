"""The provider portal (issue 15): a provider's home and its call-offs (the need, the bid
form, the receipt, withdrawing the bid before the deadline, clarification questions and
their published answers and, after award, the outcome and feedback).

Only the provider role reaches these pages (officers get the 403 page) and every call goes
with the provider's own token: the services narrow each answer to the provider the token
names, so an id swapped in a URL finds nothing (404), never another provider's data.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused, ServiceUnavailable, portal, registry, watch
from services.console.clients import placements as placements_api
from services.console.clients.api import Api
from services.console.render import page
from services.console.routes.home import DOCUMENTS_WITHIN, _clock, _section
from services.console.web import (
    Person,
    api_for,
    checked_form,
    field_errors,
    form_api,
    person_of,
    refused_form,
    refused_status,
)

router = APIRouter()
PROVIDER = "provider"
ANSWER_MAX = 5000
QUESTION_MAX = 2000  # procurement's d.QUESTION_MAX
FEE_MAX = Decimal("1000000")
LABELS = {
    "fee_basis": "How the fee is quoted",
    "core_fee": "Core fee",
    "weeks_per_year": "Weeks per year",
    "start_date": "Start date",
    "question": "Question",
}
# Procurement's refusals a provider can act on, in words (the rest name field and rule).
RULE_TEXT = {
    "withdrawal_after_deadline": "The deadline has passed: a bid can no longer be withdrawn",
    "no_live_bid": "You have no bid in this call-off to withdraw",
    "clarifications_closed": "Questions have closed for this call-off",
    "competition_not_open": "This call-off is no longer open",
}


def refusal_errors(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """Known rules in words for the error summary; anything else as field and rule."""
    known, rest = [], []
    for error in errors:
        rule = error["rule"].split(":", 1)[0].strip()
        if rule in RULE_TEXT:
            known.append({"text": RULE_TEXT[rule], "href": "#main-content", "field": rule})
        else:
            rest.append(error)
    return known + bid_errors(rest)


def bid_errors(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """Procurement's field errors on a bid, each against the form's own field."""
    return field_errors(errors, LABELS, {"start_date": ("start", "#start-day")})


def provider_of(request: Request) -> tuple[Person, str]:
    """The signed-in provider person and their organisation (from the session's token,
    never from the URL)."""
    person = person_of(request, PROVIDER)
    if not person.provider_id:
        raise ApiRefused(403, [])
    return person, person.provider_id


def provider_api(request: Request) -> Api:
    """The signed-in provider person's API (see provider_of)."""
    person, _ = provider_of(request)
    return api_for(request, person)


def _documents(record: dict[str, Any], today: date) -> list[dict[str, Any]]:
    soon = today + DOCUMENTS_WITHIN
    found = []
    for document in record.get("documents", []):
        expires = date.fromisoformat(document["expires_on"])
        found.append(
            {
                **document,
                "expires_on": expires,
                "expired": expires < today,
                "soon": expires <= soon,
            }
        )
    return sorted(found, key=lambda d: d["expires_on"])


@router.get("/portal")
async def portal_home(request: Request) -> Response:
    person, provider_id = provider_of(request)
    api = api_for(request, person)
    now = datetime.now(UTC)
    invitations, applications, declarations, record, placed = await asyncio.gather(
        _section(portal.invitations(api)),
        _section(portal.applications(api)),
        _section(portal.declarations(api)),
        _section(registry.provider(api, provider_id)),
        _section(placements_api.placements_at(api, provider_id)),
    )
    # Its own record as the council holds it (read-only): inspections (public), the
    # council's decisions on its registration with their reasons (its own only) and the
    # KPI returns it owes. Monitoring's alerts and any pending suspension recommendation
    # stay the council's: those services do not show them to a provider.
    inspections, decisions, owed, drafts = await asyncio.gather(
        _section(registry.inspections(api, provider_id)),
        _section(registry.status_changes(api, provider_id)),
        _section(watch.kpi_returns_due(api, provider_id)),
        _section(portal.drafts(api)),
    )
    return page(
        request,
        "portal/home.html",
        invitations=invitations,
        open_invitations=(
            []
            if isinstance(invitations, ServiceUnavailable)
            else [i for i in invitations if i["status"] == "open"]
        ),
        applications=(
            applications
            if isinstance(applications, ServiceUnavailable)
            else [_clock(a, now) for a in applications]
        ),
        declarations=declarations,
        record=record,
        documents=(
            [] if isinstance(record, ServiceUnavailable) else _documents(record, now.date())
        ),
        placements=placed,
        inspections=inspections,
        decisions=decisions,
        owed=(
            owed
            if isinstance(owed, ServiceUnavailable)
            else [o for o in owed if o["state"] != "submitted"]
        ),
        drafts=drafts,
        applied=request.query_params.get("applied") == "1",
        draft_saved=request.query_params.get("draft_saved") == "1",
        replied=request.query_params.get("replied") == "1",
        declared=request.query_params.get("declared") == "1",
    )


def _invitation(invitations: list[dict[str, Any]], competition_id: str) -> dict[str, Any] | None:
    return next((i for i in invitations if i["competition_id"] == competition_id), None)


async def _call_off(
    request: Request,
    competition_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    api = provider_api(request)
    # Procurement answers 404 unless this provider was invited (no other call-off shows).
    competition = await portal.competition(api, competition_id)
    mine = _invitation(await portal.invitations(api), competition_id)
    now = datetime.now(UTC)
    is_open = competition["status"] == "open"
    closes = competition.get("clarifications_close_at")
    return page(
        request,
        "portal/call_off.html",
        status_code,
        competition=competition,
        my_bid=mine["my_bid"] if mine else None,
        my_withdrawal=mine.get("my_withdrawal") if mine else None,
        open_for_bids=is_open and datetime.fromisoformat(competition["deadline_at"]) > now,
        open_for_questions=is_open and closes is not None and datetime.fromisoformat(closes) > now,
        clarifications=competition.get("clarifications", []),
        question_max=QUESTION_MAX,
        asked=request.query_params.get("asked") == "1",
        errors=errors or [],
        form=form or {},
    )


@router.get("/portal/call-offs/{competition_id}")
async def call_off_page(request: Request, competition_id: str) -> Response:
    return await _call_off(request, competition_id)


def _problem(field: str, text: str) -> dict[str, str]:
    # The start date's link goes to its day box (GOV.UK: the group's first field).
    return {"text": text, "href": "#start-day" if field == "start" else f"#{field}", "field": field}


def read_bid(form: Any, questions: list[dict[str, Any]]) -> tuple[dict[str, Any], list[Any]]:
    """The bid form as procurement's body, and what is wrong with it (GOV.UK wording)."""
    fields = ("fee_basis", "core_fee", "weeks_per_year", "start-day", "start-month", "start-year")
    given: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in fields}
    answers = {
        q["question_id"]: str(form.get(f"answer-{q['question_id']}", "")).strip() for q in questions
    }
    given["answers"] = answers
    problems = []
    if given["fee_basis"] not in ("weekly", "annual"):
        problems.append(_problem("fee_basis", "Select whether the fee is weekly or annual"))
    try:
        fee = Decimal(given["core_fee"].replace(",", "").lstrip("£"))
        if not (Decimal(0) < fee < FEE_MAX) or fee.as_tuple().exponent < -2:  # type: ignore[operator]
            raise InvalidOperation
    except InvalidOperation:
        problems.append(_problem("core_fee", "Enter the core fee in pounds, like 1500.00"))
        fee = Decimal(0)
    try:
        weeks = int(given["weeks_per_year"])
        if not 1 <= weeks <= 52:
            raise ValueError
    except ValueError:
        problems.append(_problem("weeks_per_year", "Enter weeks per year as a number from 1 to 52"))
        weeks = 0
    try:
        start = date(int(given["start-year"]), int(given["start-month"]), int(given["start-day"]))
    except ValueError:
        problems.append(_problem("start", "Enter the start date as a real date, like 1 9 2027"))
        start = None
    for qid, text in answers.items():
        if not text:
            problems.append(_problem(f"answer-{qid}", "Answer every quality question"))
        elif len(text) > ANSWER_MAX:
            problems.append(
                _problem(f"answer-{qid}", f"Answers must be {ANSWER_MAX} characters or fewer")
            )
    body = {
        "fee_basis": given["fee_basis"],
        "core_fee": str(fee),
        "weeks_per_year": weeks,
        "start_date": start.isoformat() if start else "",
        "answers": answers,
    }
    return {"given": given, "body": body}, problems


@router.post("/portal/call-offs/{competition_id}/bid")
async def submit_bid(request: Request, competition_id: str) -> Response:
    person, _ = provider_of(request)
    form = await checked_form(request)
    api = form_api(request, person, form)
    competition = await portal.competition(api, competition_id)  # 404 unless invited
    questions = competition["spec"].get("quality_questions", [])
    read, problems = read_bid(form, questions)
    if problems:
        return await _call_off(request, competition_id, 400, problems, read["given"])
    try:
        await portal.bid(api, competition_id, read["body"])
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        errors = bid_errors(refused.errors)
        return await _call_off(request, competition_id, 400, errors, read["given"])
    return RedirectResponse(f"/portal/call-offs/{competition_id}/receipt", status_code=303)


@router.get("/portal/call-offs/{competition_id}/receipt")
async def receipt(request: Request, competition_id: str) -> Response:
    api = provider_api(request)
    mine = _invitation(await portal.invitations(api), competition_id)
    if mine is None or mine["my_bid"] is None:
        return page(request, "errors/not_found.html", 404)
    return page(request, "portal/receipt.html", invitation=mine, bid=mine["my_bid"])


@router.post("/portal/call-offs/{competition_id}/clarifications")
async def ask(request: Request, competition_id: str) -> Response:
    """A clarification question; the answer is published to every invited provider and
    never names who asked."""
    person, _ = provider_of(request)
    form = await checked_form(request)
    api = form_api(request, person, form)
    question = str(form.get("question", "")).strip()
    problem = (
        "Enter your question"
        if not question
        else f"Your question must be {QUESTION_MAX} characters or fewer"
        if len(question) > QUESTION_MAX
        else ""
    )
    if problem:
        errors = [_problem("question", problem)]
        return await _call_off(request, competition_id, 400, errors, {"question": question})
    try:
        await portal.ask(api, competition_id, question)
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        errors = refusal_errors(refused.errors)
        code = 409 if refused.status == 409 else 400
        return await _call_off(request, competition_id, code, errors, {"question": question})
    return RedirectResponse(f"/portal/call-offs/{competition_id}?asked=1", status_code=303)


@router.get("/portal/call-offs/{competition_id}/withdraw")
async def confirm_withdrawal(request: Request, competition_id: str) -> Response:
    """Are you sure? A page of its own, so that withdrawing works without JavaScript."""
    api = provider_api(request)
    competition = await portal.competition(api, competition_id)  # 404 unless invited
    mine = _invitation(await portal.invitations(api), competition_id)
    if mine is None or mine["my_bid"] is None:
        return RedirectResponse(f"/portal/call-offs/{competition_id}", status_code=303)
    return page(request, "portal/withdraw.html", competition=competition, bid=mine["my_bid"])


@router.post("/portal/call-offs/{competition_id}/withdraw")
async def withdraw(request: Request, competition_id: str) -> Response:
    person, _ = provider_of(request)
    form = await checked_form(request)
    api = form_api(request, person, form)
    try:
        await portal.withdraw(api, competition_id)
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is not None:
            errors = refusal_errors(refusal)
            code = refused_status(refused)
            return await _call_off(request, competition_id, code, errors)
    return RedirectResponse(f"/portal/call-offs/{competition_id}/withdrawal", status_code=303)


@router.get("/portal/call-offs/{competition_id}/withdrawal")
async def withdrawal_receipt(request: Request, competition_id: str) -> Response:
    api = provider_api(request)
    mine = _invitation(await portal.invitations(api), competition_id)
    if mine is None or mine.get("my_withdrawal") is None:
        return page(request, "errors/not_found.html", 404)
    return page(
        request, "portal/withdrawal.html", invitation=mine, withdrawal=mine["my_withdrawal"]
    )
