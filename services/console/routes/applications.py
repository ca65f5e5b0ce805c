"""Requests to participate: the list by time left on the evaluation clock, one
application's page and the decision form (admit, or refuse with a reason)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import (
    ApiRefused,
    ServiceUnavailable,
    procurement,
    registry,
    schemes,
)
from services.console.clients.api import Api
from services.console.render import page
from services.console.routes.home import _clock
from services.console.web import (
    api_for,
    checked_form,
    field_errors,
    form_api,
    person_of,
    refused_form,
)
from shared import clock

router = APIRouter()
READERS = ("commissioner", "admin", "monitoring_officer")
DECIDERS = ("commissioner", "admin")
REASON_MAX = 1000
# The services' field names, as the decision form's fields name them.
LABELS = {"outcome": "Decision", "reason": "Reason"}


async def provider_names(api: Api) -> dict[str, str]:
    """Names to show beside applications (the register is the source; without it the
    list still works, showing a short id)."""
    try:
        found = await registry.providers(api, limit=200)
    except ServiceUnavailable:
        return {}
    return {hit["provider"]["provider_id"]: hit["provider"]["name"] for hit in found["items"]}


@router.get("/applications")
async def application_list(
    request: Request, status: str = Query(default="submitted", max_length=20)
) -> Response:
    person = person_of(request, *READERS)
    chosen = status if status in ("submitted", "decided") else "submitted"
    now = clock.now()
    api = api_for(request, person)
    found = await procurement.applications(api, chosen)
    return page(
        request,
        "applications.html",
        applications=[_clock(a, now) for a in found],
        status=chosen,
        names=await provider_names(api),
    )


async def _show(
    request: Request,
    application_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    person = person_of(request, *READERS)
    api = api_for(request, person)
    found = await procurement.application(api, application_id)
    scheme = await schemes.scheme(api, found["scheme_id"])
    return page(
        request,
        "application.html",
        status_code,
        application=_clock(found, clock.now()),
        questions=_questions(scheme, found),
        may_decide=person.role in DECIDERS,
        errors=errors or [],
        form=form or {},
        decided=request.query_params.get("decided") == "1",
        extended=request.query_params.get("extended") == "1",
        may_extend=person.role == "commissioner",
        may_ask=person.role == "commissioner",
        asked=request.query_params.get("asked") == "1",
    )


@router.get("/applications/{application_id}")
async def application_page(request: Request, application_id: str) -> Response:
    return await _show(request, application_id)


def _questions(scheme: dict[str, Any], application: dict[str, Any]) -> list[dict[str, Any]]:
    """The scheme's selection questions in its order, each with the provider's answer and
    the form's field ids (by position: a question id need not be a valid HTML id)."""
    answers: dict[str, str] = application.get("answers") or {}
    return [
        {**q, "answer": answers.get(q["question_id"], ""), "n": n}
        for n, q in enumerate(scheme.get("selection_questions") or [], start=1)
    ]


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


def _problems(outcome: str, reason: str) -> list[dict[str, str]]:
    problems = []
    if outcome not in ("admit", "refuse"):
        problems.append(_problem("outcome", "Select whether to admit or refuse"))
    if outcome == "refuse" and not reason:
        problems.append(_problem("reason", "Enter the reason for refusing"))
    if len(reason) > REASON_MAX:
        problems.append(_problem("reason", f"Reason must be {REASON_MAX} characters or fewer"))
    return problems


def _assessment(
    q: dict[str, Any], given: dict[str, str]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """One question's assessment as procurement takes it (AssessmentIn), or the problems
    with what was entered: pass/fail or a score within 0 to the question's maximum, as
    the question's kind requires (domain._validate_assessments); a fail needs a reason,
    as the provider is told it."""
    n, text = q["n"], q["text"]
    verdict, note = given[f"assessment-{n}"], given[f"note-{n}"]
    problems = []
    body: dict[str, Any] = {"note": note}
    if len(note) > REASON_MAX:
        problems.append(
            _problem(f"note-{n}", f"Reasons for {text} must be {REASON_MAX} characters or fewer")
        )
    if q["kind"] == "pass_fail":
        if verdict not in ("pass", "fail"):
            problems.append(_problem(f"assessment-{n}", f"Select pass or fail for {text}"))
        elif verdict == "fail" and not note:
            problems.append(_problem(f"note-{n}", f"Enter why {text} fails"))
        body["passed"] = verdict == "pass"
        return body, problems
    top = Decimal(q.get("max_score") or 0)
    try:
        score = Decimal(verdict)
    except InvalidOperation:
        score = Decimal(-1) if verdict else Decimal("NaN")
    if score.is_nan():
        problems.append(_problem(f"assessment-{n}", f"Enter a score for {text}"))
    elif not score.is_finite() or not Decimal(0) <= score <= top:
        problems.append(
            _problem(f"assessment-{n}", f"Score for {text} must be a number from 0 to {top}")
        )
    body["score"] = str(score)
    return body, problems


def _assessments(
    questions: list[dict[str, Any]], given: dict[str, str]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, str]]]:
    assessments, problems = {}, []
    for q in questions:
        body, wrong = _assessment(q, given)
        assessments[q["question_id"]] = body
        problems.extend(wrong)
    return assessments, problems


def service_errors(
    errors: list[dict[str, str]], questions: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """Procurement's errors for the summary: `assessments.<question>` names the
    question's input (by its position), the rest as the decision form's fields."""
    numbers = {f"assessments.{q['question_id']}": q for q in questions}
    items = []
    for error in errors:
        q = numbers.get(error["field"])
        if q is None:
            items.extend(field_errors([error], LABELS))
            continue
        rule = error.get("message") or error["rule"].replace("_", " ")
        items.append(_problem(f"assessment-{q['n']}", f"{q['text']}: {rule}"))
    return items


@router.post("/applications/{application_id}/decision")
async def decide(request: Request, application_id: str) -> Response:
    person = person_of(request, *DECIDERS)
    form = await checked_form(request)
    api = form_api(request, person, form)
    found: dict[str, Any] = await procurement.application(api, application_id)
    questions = _questions(await schemes.scheme(api, found["scheme_id"]), found)
    outcome = str(form.get("outcome", ""))
    reason = str(form.get("reason", "")).strip()
    given = {"outcome": outcome, "reason": reason}
    for q in questions:
        for name in (f"assessment-{q['n']}", f"note-{q['n']}"):
            given[name] = str(form.get(name, "")).strip()
    assessments, wrong = _assessments(questions, given)
    problems = _problems(outcome, reason) + wrong
    if problems:
        return await _show(request, application_id, 400, problems, given)
    refused = (
        {code: reason for code in found["requested_categories"]} if outcome == "refuse" else None
    )
    try:
        await procurement.decide(api, application_id, refused, assessments)
    except ApiRefused as refused_by_service:
        if (refusal := refused_form(refused_by_service)) is None:
            return RedirectResponse(f"/applications/{application_id}?decided=1", status_code=303)
        errors = service_errors(refusal, questions)
        return await _show(request, application_id, 400, errors, given)
    return RedirectResponse(f"/applications/{application_id}?decided=1", status_code=303)


# ---------------------------------------------- clarification requests (reg 56(4))

QUESTION_MAX = 2000
ASK_LABELS = {"question": "Question", "reply_by_on": "Reply by"}


def _reply_by(given: dict[str, str], problems: list[dict[str, str]]) -> str:
    parts = [given[f"reply_by-{p}"] for p in ("year", "month", "day")]
    if not all(parts):
        problems.append(_ask_problem("reply_by", "Enter the date the provider must reply by"))
        return ""
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
    except ValueError:
        problems.append(_ask_problem("reply_by", "Reply by must be a real date"))
        return ""


def _ask_problem(field: str, text: str) -> dict[str, str]:
    href = "#reply_by-day" if field == "reply_by" else f"#{field}"
    return {"text": text, "href": href, "field": field}


@router.post("/applications/{application_id}/clarification-requests")
async def ask_applicant(request: Request, application_id: str) -> Response:
    """Ask the applicant to clarify or supplement its answers or documents. The evaluation
    clock runs on (reg 34(15) has no pause); the extension with a reason remains."""
    person = person_of(request, "commissioner")
    form = await checked_form(request)
    given = {"question": str(form.get("question", "")).strip()}
    for part in ("day", "month", "year"):
        given[f"reply_by-{part}"] = str(form.get(f"reply_by-{part}", "")).strip()
    problems: list[dict[str, str]] = []
    if not given["question"]:
        problems.append(_ask_problem("question", "Enter the question for the provider"))
    elif len(given["question"]) > QUESTION_MAX:
        text = f"The question must be {QUESTION_MAX} characters or fewer"
        problems.append(_ask_problem("question", text))
    reply_by_on = _reply_by(given, problems)
    if problems:
        return await _show(request, application_id, 400, problems, given)
    try:
        await procurement.request_clarification(
            form_api(request, person, form), application_id, given["question"], reply_by_on
        )
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is not None:
            errors = [
                _ask_problem("reply_by" if e["field"] == "reply_by_on" else "question", e["text"])
                for e in field_errors(refusal, ASK_LABELS)
            ]
            return await _show(request, application_id, 400, errors, given)
    return RedirectResponse(f"/applications/{application_id}?asked=1", status_code=303)
