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

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from fastapi import APIRouter, status
from pydantic import Field
from sqlmodel import col, select

from services.procurement import domain as d
from services.procurement.api._common import Runtime, current_time, own_provider
from services.procurement.models import (
    ApplicationClarificationRow,
    ApplicationDraftRow,
    SchemeRow,
    application_clarification_to_domain,
    application_to_domain,
    scheme_to_domain,
)
from services.procurement.policy import ALLOWED
from services.procurement.store import load_scheme_row, locked_application
from shared.api_types import RequestBody
from shared.errors import Conflict, NotFound
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
    provider_id = own_provider(actor)
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        scheme = await load_scheme_row(uow, scheme_id)
        draft = d.save_draft(
            scheme_to_domain(scheme),
            provider_id=provider_id,
            requested_categories=body.requested_categories,
            answers=body.answers,
            now=now,
        )
        row = await uow.session.get(ApplicationDraftRow, (scheme_id, provider_id))
        if row is None:
            row = ApplicationDraftRow(scheme_id=scheme_id, provider_id=provider_id)
        row.requested_categories = list(draft.requested_categories)
        row.answers = dict(draft.answers)
        row.saved_at = now
        uow.session.add(row)
        uow.audit(actor, "application.draft_saved", "scheme", scheme_id)
    return draft_view(row, scheme.title)


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
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await locked_application(uow, application_id)
        if row.status != "submitted":  # the row holds no decision; its status says so
            raise Conflict("application_id", "already_decided: the application was decided")
        c = d.request_application_clarification(
            application_to_domain(row),
            request_id=str(uuid.uuid4()),
            question=body.question,
            reply_by_on=body.reply_by_on,
            by=actor.id,
            now=now,
        )
        stored = ApplicationClarificationRow(
            id=c.request_id,
            application_id=c.application_id,
            provider_id=c.provider_id,
            question=c.question,
            reply_by_on=c.reply_by_on,
            asked_by=c.asked_by,
            asked_at=c.asked_at,
        )
        uow.session.add(stored)
        uow.audit(
            actor,
            "application.clarification_requested",
            "application",
            application_id,
            request_id=stored.id,
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
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        stored = await uow.session.get(ApplicationClarificationRow, request_id)
        if (
            stored is None
            or stored.application_id != application_id
            or stored.provider_id != provider_id
        ):
            raise NotFound("clarification_request", request_id)
        c = d.answer_application_clarification(
            application_clarification_to_domain(stored), answer=body.answer, now=now
        )
        stored.answer, stored.answered_at = c.answer, c.answered_at
        uow.session.add(stored)
        uow.audit(
            actor,
            "application.clarification_answered",
            "application",
            application_id,
            request_id=stored.id,
        )
    return clarification_request_view(stored)
