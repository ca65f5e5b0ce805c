"""The provider portal: joining a DPS (choose categories, answer the selection questions
as the scheme defines them, submit) and renewing a self-declaration when the council asks
(PCR 2015 reg 34(25)). Writes go to procurement with the provider's own token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused, portal
from services.console.render import page
from services.console.routes.portal import ANSWER_MAX, provider_api, provider_of
from services.console.web import (
    api_for,
    checked_form,
    field_errors,
    form_api,
    refused_form,
    refused_status,
)

router = APIRouter()
LABELS = {"requested_categories": "Categories", "answers": "Answers", "declaration": "Declaration"}
DECLARATION_TEXT = (
    "The information in our selection questionnaire is still accurate, and no ground for "
    "exclusion applies to us (PCR 2015 regulation 57)."
)


@router.get("/portal/schemes")
async def scheme_list(request: Request) -> Response:
    api = provider_api(request)
    return page(request, "portal/schemes.html", schemes=await portal.schemes(api))


async def _apply_form(
    request: Request,
    scheme_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    api = provider_api(request)
    scheme = await portal.scheme(api, scheme_id)
    saved = await portal.draft(api, scheme_id)
    if form is None and saved is not None:
        # Coming back: the form as the provider left it.
        form = {"categories": saved["requested_categories"], "answers": saved["answers"]}
    return page(
        request,
        "portal/apply.html",
        status_code,
        scheme=scheme,
        errors=errors or [],
        form=form or {"categories": [], "answers": {}},
        draft=saved,
    )


@router.get("/portal/schemes/{scheme_id}/apply")
async def apply_page(request: Request, scheme_id: str) -> Response:
    return await _apply_form(request, scheme_id)


@router.post("/portal/schemes/{scheme_id}/apply")
async def apply(request: Request, scheme_id: str) -> Response:
    person, _ = provider_of(request)
    form = await checked_form(request)
    api = form_api(request, person, form)
    scheme = await portal.scheme(api, scheme_id)
    offered = {c["code"] for c in scheme["categories"]}
    chosen = [str(c) for c in form.getlist("categories") if str(c) in offered]
    answers = {
        q["question_id"]: str(form.get(f"answer-{q['question_id']}", "")).strip()
        for q in scheme["selection_questions"]
    }
    given = {"categories": chosen, "answers": answers}
    if form.get("action") == "save":
        return await _save_draft(request, scheme_id, api, given)
    problems = []
    if not chosen:
        problems.append(
            {"text": "Select at least one category", "href": "#categories", "field": "categories"}
        )
    for qid, text in answers.items():
        field = f"answer-{qid}"
        if not text:
            problems.append({"text": "Answer every question", "href": f"#{field}", "field": field})
        elif len(text) > ANSWER_MAX:
            message = f"Answers must be {ANSWER_MAX} characters or fewer"
            problems.append({"text": message, "href": f"#{field}", "field": field})
    pending = [
        a
        for a in await portal.applications(api)
        if a["scheme_id"] == scheme_id and a["status"] == "submitted"
    ]
    if pending:
        # A second tab or a resent form: procurement would take a second request, so the
        # portal refuses while one is still waiting for the council's decision.
        text = "You already applied to join this DPS: your application is awaiting a decision"
        problems.append({"text": text, "href": "#categories", "field": "categories"})
    if problems:
        return await _apply_form(request, scheme_id, 400, problems, given)
    try:
        await portal.apply(api, scheme_id, chosen, answers)
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        errors = field_errors(refused.errors, LABELS)
        return await _apply_form(request, scheme_id, 400, errors, given)
    return RedirectResponse("/portal?applied=1#applications", status_code=303)


async def _save_draft(
    request: Request, scheme_id: str, api: Any, given: dict[str, Any]
) -> Response:
    """Keep the form as it is, unfinished: only sizes are checked. A draft is not a request
    to participate, so it is not evaluated and no clock starts (PCR 2015 reg 34(15))."""
    problems = [
        {
            "text": f"Answers must be {ANSWER_MAX} characters or fewer",
            "href": f"#answer-{qid}",
            "field": f"answer-{qid}",
        }
        for qid, text in given["answers"].items()
        if len(text) > ANSWER_MAX
    ]
    if problems:
        return await _apply_form(request, scheme_id, 400, problems, given)
    kept = {qid: text for qid, text in given["answers"].items() if text}
    try:
        await portal.save_draft(api, scheme_id, given["categories"], kept)
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        errors = field_errors(refused.errors, LABELS)
        return await _apply_form(request, scheme_id, 400, errors, given)
    return RedirectResponse("/portal?draft_saved=1#drafts", status_code=303)


async def _declaration_form(
    request: Request, request_id: str, status_code: int = 200, errors: Any = None
) -> Response:
    person, _ = provider_of(request)
    # Procurement answers 404 for a request sent to another provider.
    found = await portal.declaration(api_for(request, person), request_id)
    return page(
        request,
        "portal/declaration.html",
        status_code,
        declaration=found,
        statement=DECLARATION_TEXT,
        errors=errors or [],
    )


@router.get("/portal/self-declarations/{request_id}")
async def declaration_page(request: Request, request_id: str) -> Response:
    return await _declaration_form(request, request_id)


@router.post("/portal/self-declarations/{request_id}")
async def declare(request: Request, request_id: str) -> Response:
    person, _ = provider_of(request)
    form = await checked_form(request)
    confirmed = form.get("confirm") == "yes"
    changes = str(form.get("changes", "")).strip()
    if not confirmed or len(changes) > ANSWER_MAX:
        text = (
            "Confirm the declaration"
            if not confirmed
            else f"Changes must be {ANSWER_MAX} characters or fewer"
        )
        field = "confirm" if not confirmed else "changes"
        problem = {"text": text, "href": f"#{field}", "field": field}
        return await _declaration_form(request, request_id, 400, [problem])
    try:
        await portal.declare(
            form_api(request, person, form),
            request_id,
            {"statement": DECLARATION_TEXT, "changes": changes or "none"},
        )
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        errors = field_errors(refused.errors, LABELS)
        return await _declaration_form(request, request_id, 400, errors)
    return RedirectResponse("/portal?declared=1#declarations", status_code=303)


# ------------------------------------------- the council's clarification requests

REPLY_MAX = 5000


def _request_of(
    applications: list[dict[str, Any]], request_id: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The request on one of this provider's own applications (the list is its own, so
    another provider's request id finds nothing)."""
    for a in applications:
        for r in a.get("clarification_requests", []):
            if r["request_id"] == request_id:
                return a, r
    return None


async def _reply_form(
    request: Request,
    found: tuple[dict[str, Any], dict[str, Any]],
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    answer: str = "",
) -> Response:
    application, asked = found
    return page(
        request,
        "portal/clarification_request.html",
        status_code,
        application=application,
        asked=asked,
        errors=errors or [],
        answer=answer,
    )


async def _own_request(
    request: Request, api: Any, request_id: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    return _request_of(await portal.applications(api), request_id)


@router.get("/portal/clarification-requests/{clarification_request_id}")
async def reply_page(request: Request, clarification_request_id: str) -> Response:
    person, _ = provider_of(request)
    found = await _own_request(request, api_for(request, person), clarification_request_id)
    if found is None:
        return page(request, "errors/not_found.html", 404)
    return await _reply_form(request, found)


def _refused(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """Procurement's refusal of a reply, in words against the answer box."""
    rules = " ".join(e.get("rule", "") for e in errors)
    if "reply_by_passed" in rules:
        text = "The reply-by date has passed: the council can no longer take an answer here"
    elif "application_clarification_answered" in rules:
        text = "You already answered this request"
    else:
        return field_errors(errors, {"answer": "Your answer"})
    return [{"text": text, "href": "#answer", "field": "answer"}]


@router.post("/portal/clarification-requests/{clarification_request_id}")
async def reply(request: Request, clarification_request_id: str) -> Response:
    person, _ = provider_of(request)
    form = await checked_form(request)
    api = form_api(request, person, form)
    found = await _own_request(request, api, clarification_request_id)
    if found is None:
        return page(request, "errors/not_found.html", 404)
    answer = str(form.get("answer", "")).strip()
    text = ""
    if not answer:
        text = "Enter your answer"
    elif len(answer) > REPLY_MAX:
        text = f"Your answer must be {REPLY_MAX} characters or fewer"
    if text:
        problem = [{"text": text, "href": "#answer", "field": "answer"}]
        return await _reply_form(request, found, 400, problem, answer)
    try:
        await portal.answer_request(
            api, found[0]["application_id"], clarification_request_id, answer
        )
    except ApiRefused as refused:
        if (refusal := refused_form(refused)) is not None:
            code = refused_status(refused)
            return await _reply_form(request, found, code, _refused(refusal), answer)
    return RedirectResponse("/portal?replied=1#applications", status_code=303)
