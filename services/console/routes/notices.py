"""The notices the council must publish: every kind in words with its form (UK4 to UK16
under the Procurement Act 2023), regime, due date, status (due, overdue, sent, published:
who and when) and source, filterable by regime; and recording that one was sent for
publication or published (procurement's POST /notices/{notice_id}/publication)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup, escape

from services.console.clients import ApiRefused, procurement
from services.console.regimes import REGIME_WORDS
from services.console.render import nice_date, page
from services.console.web import (
    api_for,
    checked_form,
    field_errors,
    form_api,
    person_of,
    refused_form,
    refused_status,
)

router = APIRouter()
# As services/procurement/policy.py allows: both read the register, the commissioner
# records publication (admin operates the platform, never publishes for the council).
READERS = ("commissioner", "monitoring_officer")
COMMISSIONER = "commissioner"
STATUSES = ("sent", "published")
REF_MAX = 200
LABELS = {"status": "What happened", "publication_ref": "Publication reference"}


def status_tag(notice: dict[str, Any]) -> dict[str, str]:
    """The notice's state as a GOV.UK tag: overdue (red) before due (blue), then sent
    (yellow) or published (green)."""
    if notice["status"] == "published":
        return {"text": "Published", "classes": "govuk-tag--green"}
    if notice["status"] == "sent":
        return {"text": "Sent", "classes": "govuk-tag--yellow"}
    if notice.get("overdue"):
        return {"text": "Overdue", "classes": "govuk-tag--red"}
    return {"text": "Due", "classes": "govuk-tag--blue"}


def _when(value: Any) -> str:
    return nice_date(value)


def state_cell(notice: dict[str, Any]) -> Markup:
    """The status tag, then who sent or published it and when (and its reference)."""
    tag = status_tag(notice)
    html = f'<strong class="govuk-tag {tag["classes"]}">{escape(tag["text"])}</strong>'
    said = ""
    if notice["status"] == "published":
        said = f"Published by {notice['published_by']} on {_when(notice['published_at'])}"
    elif notice["status"] == "sent":
        said = f"Sent by {notice['sent_by']} on {_when(notice['sent_at'])}"
    if said and notice.get("publication_ref"):
        said += f"; reference {notice['publication_ref']}"
    if said and notice.get("late"):
        said += " (after its due date)"
    if said:
        html += f'<br><span class="govuk-body-s">{escape(said)}</span>'
    return Markup(html)  # nosec B704: every part escaped above


def regime_options(chosen: str) -> list[dict[str, Any]]:
    """The filter's choices: every regime in words, or all."""
    return [{"value": "", "text": "All regimes", "selected": not chosen}] + [
        {"value": code, "text": words.words, "selected": code == chosen}
        for code, words in REGIME_WORDS.items()
    ]


@router.get("/notices")
async def notice_list(request: Request, regime: str = Query(default="", max_length=60)) -> Response:
    person = person_of(request, *READERS)
    errors: list[dict[str, str]] = []
    if regime and regime not in REGIME_WORDS:
        errors = [{"text": "Choose a regime from the list", "href": "#regime", "field": "regime"}]
    chosen = "" if errors else regime
    found = await procurement.tracked_notices(api_for(request, person), chosen or None)
    return page(
        request,
        "notices/list.html",
        400 if errors else 200,
        notices=found,
        states={n["notice_id"]: state_cell(n) for n in found},
        regime=chosen,
        options=regime_options(chosen),
        may_record=person.role == COMMISSIONER,
        errors=errors,
        recorded=request.query_params.get("recorded", ""),
    )


async def _notice(request: Request, notice_id: str) -> dict[str, Any]:
    """The one notice, from the register (404 when it holds none by that id)."""
    person = person_of(request, COMMISSIONER)
    for n in await procurement.tracked_notices(api_for(request, person)):
        if n["notice_id"] == notice_id:
            return n
    raise ApiRefused(404, [{"field": "notice_id", "rule": "not_found"}])


def _form_page(
    request: Request,
    notice: dict[str, Any],
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    given: dict[str, str] | None = None,
) -> Response:
    return page(
        request,
        "notices/publication.html",
        status_code,
        notice=notice,
        tag=status_tag(notice),
        errors=errors or [],
        form=given or {"status": "", "publication_ref": notice.get("publication_ref") or ""},
    )


@router.get("/notices/{notice_id}/publication")
async def publication_form(request: Request, notice_id: str) -> Response:
    return _form_page(request, await _notice(request, notice_id))


@router.post("/notices/{notice_id}/publication")
async def record_publication(request: Request, notice_id: str) -> Response:
    person = person_of(request, COMMISSIONER)
    form = await checked_form(request)
    given = {
        "status": str(form.get("status", "")).strip(),
        "publication_ref": str(form.get("publication_ref", "")).strip(),
    }
    problems = []
    if given["status"] not in STATUSES:
        problems.append({"text": "Choose sent or published", "href": "#status", "field": "status"})
    if len(given["publication_ref"]) > REF_MAX:
        text = f"Publication reference must be {REF_MAX} characters or fewer"
        problems.append({"text": text, "href": "#publication_ref", "field": "publication_ref"})
    if problems:
        return _form_page(request, await _notice(request, notice_id), 400, problems, given)
    try:
        await procurement.record_publication(
            form_api(request, person, form),
            notice_id,
            given["status"],
            given["publication_ref"] or None,
        )
    except ApiRefused as refused:
        if (errors := refused_form(refused)) is not None:
            notice = await _notice(request, notice_id)
            shown = field_errors(errors, LABELS)
            return _form_page(request, notice, refused_status(refused), shown, given)
    return RedirectResponse(f"/notices?recorded={notice_id}", status_code=303)
