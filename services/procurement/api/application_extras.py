"""Two additions to a request to participate (issue 15).

Drafts: a provider keeps an unfinished application to a scheme and comes back to it. Only
its own (the token names the provider; there is no provider id in the path to swap). A
draft is checked for size and shape only, is not evaluated and starts no clock
(d.DRAFT_SOURCE); submitting the application deletes it in the same transaction (api.py).

Clarification requests: during evaluation the council asks the applicant to clarify or
supplement what it sent (d.APPLICATION_CLARIFICATION_SOURCE, PCR 2015 reg 56(4)); the
applicant replies before the reply-by date (after it: 409 reply_by_passed). The request
does not stop the evaluation clock; the one justified extension remains."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from fastapi import APIRouter, status
from pydantic import Field
from sqlmodel import col, select

from services.procurement import domain as d
from services.procurement.api._common import Runtime, current_time, own_provider
from services.procurement.commands import applications
from services.procurement.commands import clarifications as commands
from services.procurement.models import (
    ApplicationClarificationRow,
    ApplicationDraftRow,
    SchemeRow,
    application_clarification_to_domain,
)
from services.procurement.policy import ALLOWED
from shared.api_types import RequestBody
from shared.errors import NotFound
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["procurement"])


# ===================================================================== drafts


class DraftIn(RequestBody):
    # Bounds twice the domain's so that the domain names the rule (422 out_of_range).
    requested_categories: list[str] = Field(default=[], max_length=d.DRAFT_MAX_CATEGORIES * 2)
    answers: dict[str, str] = Field(default={}, max_length=d.DRAFT_MAX_ANSWERS * 2)


def draft_view(row: ApplicationDraftRow, scheme_title: str | None = None) -> dict[str, Any]:
    return {
        "scheme_id": row.scheme_id,
        "scheme_title": scheme_title,
        "requested_categories": row.requested_categories,
        "answers": row.answers,
        "saved_at": row.saved_at,
        "evaluated": False,
        "note": d.DRAFT_SOURCE,
    }


@router.put("/schemes/{scheme_id}/application-draft")
async def save_draft(
    scheme_id: str, body: DraftIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Keep (replace) this provider's draft application to the scheme."""
    form = applications.ApplicationForm(
        scheme_id, own_provider(actor), body.requested_categories, body.answers
    )
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row, title = await applications.save_draft(uow, actor, form, current_time())
    return draft_view(row, title)


@router.get("/schemes/{scheme_id}/application-draft")
async def get_draft(scheme_id: str, runtime: Runtime, actor: Actor = ALLOWED) -> dict[str, Any]:
    """This provider's draft to the scheme (404 when it has none)."""
    provider_id = own_provider(actor)
    async with runtime.db.session() as session:
        row = await session.get(ApplicationDraftRow, (scheme_id, provider_id))
        if row is None:
            raise NotFound("application_draft", scheme_id)
        scheme = await session.get(SchemeRow, scheme_id)
    return draft_view(row, scheme.title if scheme else None)


@router.get("/portal/application-drafts")
async def my_drafts(runtime: Runtime, actor: Actor = ALLOWED) -> list[dict[str, Any]]:
    """This provider's drafts, the latest saved first."""
    provider_id = own_provider(actor)
    async with runtime.db.session() as session:
        rows = (
            await session.exec(
                select(ApplicationDraftRow)
                .where(ApplicationDraftRow.provider_id == provider_id)
                .order_by(col(ApplicationDraftRow.saved_at).desc())
            )
        ).all()
        titles = {
            s.id: s.title
            for s in (
                await session.exec(
                    select(SchemeRow).where(col(SchemeRow.id).in_({r.scheme_id for r in rows}))
                )
            ).all()
        }
    return [draft_view(r, titles.get(r.scheme_id)) for r in rows]


# ====================================================== clarification requests


class ClarificationRequestIn(RequestBody):
    question: str = Field(max_length=d.CLARIFICATION_REQUEST_MAX * 2)
    reply_by_on: date


class ClarificationReplyIn(RequestBody):
    answer: str = Field(max_length=d.CLARIFICATION_REPLY_MAX * 2)


def clarification_request_view(row: ApplicationClarificationRow) -> dict[str, Any]:
    c = application_clarification_to_domain(row)
    return {
        "request_id": row.id,
        "application_id": row.application_id,
        "question": row.question,
        "reply_by_on": row.reply_by_on,
        "reply_by": c.reply_by,
        "asked_by": row.asked_by,
        "asked_at": row.asked_at,
        "answer": row.answer,
        "answered_at": row.answered_at,
    }


async def clarification_requests(
    session: Any, application_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Per application, its clarification requests in the order asked (for the reads)."""
    found: dict[str, list[dict[str, Any]]] = {a: [] for a in application_ids}
    rows = (
        await session.exec(
            select(ApplicationClarificationRow)
            .where(col(ApplicationClarificationRow.application_id).in_(list(application_ids)))
            .order_by(col(ApplicationClarificationRow.asked_at))
        )
    ).all()
    for row in rows:
        found[row.application_id].append(clarification_request_view(row))
    return found


@router.post(
    "/applications/{application_id}/clarification-requests", status_code=status.HTTP_201_CREATED
)
async def request_clarification(
    application_id: str, body: ClarificationRequestIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Ask the applicant to clarify or supplement, with a reply-by date; the clock runs on."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        stored = await commands.request_application_clarification(
            uow, actor, application_id, body.question, body.reply_by_on, current_time()
        )
    return clarification_request_view(stored)


@router.post("/applications/{application_id}/clarification-requests/{request_id}/answer")
async def answer_clarification(
    application_id: str,
    request_id: str,
    body: ClarificationReplyIn,
    runtime: Runtime,
    actor: Actor = ALLOWED,
) -> dict[str, Any]:
    """The applicant's reply, once, before the reply-by date; another provider gets 404."""
    provider_id = own_provider(actor)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        stored = await commands.answer_application_clarification(
            uow, actor, application_id, request_id, provider_id, body.answer, current_time()
        )
    return clarification_request_view(stored)
