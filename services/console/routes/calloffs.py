"""Call-offs (mini-competitions under the DPS): the list by stage with a CSV download,
and a call-off's page: the need (never who the child is), who was invited and why, the
bids once the deadline passed, the evaluator's own score sheet, ranking with its
explanation, and award approval (another person than those who scored)."""

from __future__ import annotations

import asyncio
import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused, ServiceUnavailable, calloffs, schemes
from services.console.clients import placements as placements_api
from services.console.clients.api import Api
from services.console.regimes import regime_by_scheme, regime_words
from services.console.render import page, pagination
from services.console.routes.applications import provider_names
from services.console.updating import updating_state, updating_url
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
READERS = ("commissioner", "admin", "monitoring_officer")
# Scoring, ranking and approving are the commissioner's (services/procurement/policy.py).
COMMISSIONERS = ("commissioner",)
PAGE_SIZE = 25
COMMENT_MAX = 2000
ANSWER_MAX = 5000  # procurement's d.ANSWER_MAX
# The list's stages, as the commissioner thinks of them, and the service's statuses in each.
STAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "open": ("Open or closing", ("open",)),
    "evaluation": ("Awaiting evaluation", ("closed", "evaluation")),
    "approval": ("Awaiting approval", ("evaluated",)),
    "awarded": ("Awarded", ("awarded",)),
    "ended": ("Ended without award", ("no_suitable_bid", "no_eligible_members")),
}
LABELS = {"scores": "Scores", "comment": "Comment", "status": "Call-off", "body": "Call-off"}
# The service's rules a person can act on, said in words (the rest name field and rule).
RULE_TEXT = {
    "approver_scored_bid": "You scored bids in this call-off, so another commissioner must "
    "approve its award (separation of duties)",
    "assessment_missing": "Every compliant bid needs an evaluator's scores before the bids "
    "can be ranked",
    "clarification_already_answered": "This question has already been answered",
    "answer_after_deadline": "The tender deadline has passed: an answer now would reach no "
    "bidder in time",
}


def refusal_errors(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """The services' `{field, rule}` errors for the error summary, a known rule in words."""
    items = []
    for error in errors:
        rule = error["rule"].split(":", 1)[0].strip()
        if rule in RULE_TEXT:
            items.append({"text": RULE_TEXT[rule], "href": "#main-content", "field": rule})
        else:
            items.extend(field_errors([error], LABELS))
    return items


def _stage(stage: str) -> str:
    return stage if stage in STAGES else "open"


@router.get("/call-offs")
async def call_off_list(
    request: Request,
    stage: str = Query(default="open", max_length=20),
    page_number: int = Query(default=1, alias="page", ge=1, le=10_000),
) -> Response:
    person = person_of(request, *READERS)
    chosen = _stage(stage)
    api = api_for(request, person)
    found, regimes = await asyncio.gather(
        calloffs.call_offs(api, list(STAGES[chosen][1])), _regimes(api)
    )
    pages = max(1, -(-len(found) // PAGE_SIZE))
    current = min(page_number, pages)
    shown = found[(current - 1) * PAGE_SIZE : current * PAGE_SIZE]
    return page(
        request,
        "calloffs/list.html",
        call_offs=shown,
        regimes=regimes,
        total=len(found),
        stage=chosen,
        stages=STAGES,
        pagination=pagination(f"/call-offs?stage={chosen}&page=", current, pages),
    )


async def _regimes(api: Api) -> dict[str, str]:
    """Each scheme's regime code by scheme id: the call-off list says which law each
    call-off runs under (procurement's list names only the scheme)."""
    return regime_by_scheme(await schemes.schemes(api))


CSV_COLUMNS = ("competition_id", "title", "category_code", "kind", "status", "round")
CSV_DATES = ("opened_at", "deadline_at", "closed_at")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting =, +, -, @, tab or CR would be
    run as a formula (CSV injection, OWASP), so it gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(header: list[str], rows: list[list[Any]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[csv_cell(v) for v in row] for row in rows])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/call-offs.csv")
async def call_off_csv(
    request: Request, stage: str = Query(default="open", max_length=20)
) -> Response:
    person = person_of(request, *READERS)
    chosen = _stage(stage)
    api = api_for(request, person)
    found, regimes = await asyncio.gather(
        calloffs.call_offs(api, list(STAGES[chosen][1])), _regimes(api)
    )
    rows = [
        [c.get(k) for k in (*CSV_COLUMNS, *CSV_DATES)]
        + [regime_words(regimes.get(c.get("scheme_id") or ""))]
        for c in found
    ]
    header = [*CSV_COLUMNS, *CSV_DATES, "regime"]
    return csv_response(header, rows, f"call-offs-{chosen}.csv")


def _own_sheet(call_off: dict[str, Any], person: Person) -> dict[str, dict[str, Any]]:
    """This evaluator's scores by bid (the current round)."""
    return {
        s["bid_id"]: s
        for s in call_off.get("evaluator_scores", [])
        if s["evaluator"] == person.subject and s["round"] == call_off["round"]
    }


def _visible_scores(call_off: dict[str, Any], person: Person) -> list[dict[str, Any]]:
    """Each evaluator sees only their own scores until the evaluation moderates them
    (the mean of all evaluators' scores, when the bids are ranked); then everyone's.
    Procurement already answers so (``scores_moderated``); the console keeps the same
    rule as a second line, should an older service answer with every sheet."""
    scores: list[dict[str, Any]] = call_off.get("evaluator_scores", [])
    if not call_off.get("scores_moderated", False):
        return [s for s in scores if s["evaluator"] == person.subject]
    return scores


async def _show(
    request: Request,
    competition_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
    form_bid: str | None = None,
    form_clarification: str | None = None,
) -> Response:
    person = person_of(request, *READERS)
    api = api_for(request, person)
    call_off = await calloffs.call_off(api, competition_id)
    live = [
        b
        for b in call_off["bids"]
        if not b["superseded"]
        and b["round"] == call_off["round"]
        and b["bid_id"] not in call_off.get("set_aside", [])
    ]
    placement, reflected = await _placement_of(api, call_off)
    return page(
        request,
        "calloffs/page.html",
        status_code,
        updating=updating_state(request, reflected),
        placement=placement,
        call_off=call_off,
        live_bids=live,
        questions=call_off["spec"].get("quality_questions", []),
        own_sheet=_own_sheet(call_off, person),
        scores=_visible_scores(call_off, person),
        names=await provider_names(api),
        may_act=person.role in COMMISSIONERS,
        errors=errors or [],
        form=form or {},
        form_bid=form_bid,
        form_clarification=form_clarification,
        clarifications=call_off.get("clarifications", []),
        answer_max=ANSWER_MAX,
        done=request.query_params.get("done", ""),
    )


async def _placement_of(api: Api, call_off: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The placement an individual award made (placements makes it from procurement's
    event, so it appears a moment after the award) and whether the page shows all the
    award leads to: True also when nothing is to come (no award yet, a block call-off,
    or standstill still running: the contract and its placement wait for its end)."""
    concluded = call_off.get("award_status") == "contract_concluded"
    if not concluded or call_off.get("kind") != "individual":
        return None, True
    try:
        found = await placements_api.placement_of_award(api, call_off["competition_id"])
    except (ServiceUnavailable, ApiRefused):
        return None, False  # cannot tell yet: the updating banner keeps checking
    return found, found is not None


@router.get("/call-offs/{competition_id}")
async def call_off_page(request: Request, competition_id: str) -> Response:
    return await _show(request, competition_id)


def _scores_of(
    form: Any, questions: list[dict[str, Any]]
) -> tuple[dict[str, str], list[dict[str, str]]]:
    scores: dict[str, str] = {}
    problems = []
    for q in questions:
        field = f"score-{q['question_id']}"
        raw = str(form.get(field, "")).strip()
        text = q["text"]
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if not raw:
            problems.append(
                {"text": f"Enter a score for {text}", "href": f"#{field}", "field": field}
            )
        elif value is None or not value.is_finite():
            problems.append(
                {"text": f"Score for {text} must be a number", "href": f"#{field}", "field": field}
            )
        elif not 0 <= value <= Decimal(str(q["max_score"])):
            problems.append(
                {
                    "text": f"Score for {text} must be between 0 and {q['max_score']}",
                    "href": f"#{field}",
                    "field": field,
                }
            )
        scores[q["question_id"]] = raw
    return scores, problems


@router.post("/call-offs/{competition_id}/bids/{bid_id}/scores")
async def score(request: Request, competition_id: str, bid_id: str) -> Response:
    person = person_of(request, *COMMISSIONERS)
    form = await checked_form(request)
    api = form_api(request, person, form)
    call_off = await calloffs.call_off(api, competition_id)
    questions = call_off["spec"].get("quality_questions", [])
    scores, problems = _scores_of(form, questions)
    comment = str(form.get("comment", "")).strip()
    if len(comment) > COMMENT_MAX:
        problems.append(
            {
                "text": f"Comment must be {COMMENT_MAX} characters or fewer",
                "href": "#comment",
                "field": "comment",
            }
        )
    given = {f"score-{k}": v for k, v in scores.items()} | {"comment": comment}
    if problems:
        return await _show(request, competition_id, 400, problems, given, bid_id)
    try:
        await calloffs.score(api, competition_id, bid_id, scores, comment or None)
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is not None:
            errors = refusal_errors(refusal)
            return await _show(request, competition_id, 400, errors, given, bid_id)
    return RedirectResponse(f"/call-offs/{competition_id}?done=scored", status_code=303)


async def _act(request: Request, competition_id: str, action: str) -> Response:
    person = person_of(request, *COMMISSIONERS)
    form = await checked_form(request)
    api = form_api(request, person, form)
    try:
        if action == "evaluated":
            await calloffs.evaluate(api, competition_id)
        else:
            await calloffs.approve(api, competition_id)
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is not None:
            errors = refusal_errors(refusal)
            return await _show(request, competition_id, refused_status(refused), errors)
    target = f"/call-offs/{competition_id}?done={action}"
    if action == "awarded":  # placements makes the placement when the award's event arrives
        target = updating_url(target, "placement")
    return RedirectResponse(target, status_code=303)


@router.post("/call-offs/{competition_id}/evaluation")
async def evaluate(request: Request, competition_id: str) -> Response:
    return await _act(request, competition_id, "evaluated")


@router.post("/call-offs/{competition_id}/award")
async def approve(request: Request, competition_id: str) -> Response:
    return await _act(request, competition_id, "awarded")


@router.post("/call-offs/{competition_id}/clarifications/{clarification_id}/answer")
async def answer(request: Request, competition_id: str, clarification_id: str) -> Response:
    """Publish an answer to a clarification question: procurement sends it to every
    invited provider, without naming who asked (equal treatment)."""
    person = person_of(request, *COMMISSIONERS)
    form = await checked_form(request)
    api = form_api(request, person, form)
    text = str(form.get("answer", "")).strip()
    field = f"answer-{clarification_id}"
    problem = (
        "Enter the answer"
        if not text
        else f"The answer must be {ANSWER_MAX} characters or fewer"
        if len(text) > ANSWER_MAX
        else ""
    )
    if problem:
        errors = [{"text": problem, "href": f"#{field}", "field": field}]
        return await _show(
            request, competition_id, 400, errors, {"answer": text}, None, clarification_id
        )
    try:
        await calloffs.answer(api, competition_id, clarification_id, text)
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is not None:
            errors = refusal_errors(refusal)
            code = refused_status(refused)
            return await _show(
                request, competition_id, code, errors, {"answer": text}, None, clarification_id
            )
    return RedirectResponse(f"/call-offs/{competition_id}?done=answered", status_code=303)
