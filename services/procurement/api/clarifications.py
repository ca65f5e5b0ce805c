"""Clarification questions on a call-off: an invited provider asks before questions close
(d.CLARIFICATION_SOURCE); a commissioner answers, and the answer is published to every
invited provider of the round without naming who asked (equal treatment: PCR 2015 reg 18,
Procurement Act 2023 s.12), with ``procurement.clarification.answered`` through the outbox
so that a notification sender can tell them. Listed in ``GET /competitions/{id}``."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status
from pydantic import Field

from services.procurement import domain as d
from services.procurement.api._common import Runtime, current_time, own_provider
from services.procurement.api.competitions import clarification_view
from services.procurement.models import (
    ClarificationRow,
    clarification_row,
    clarification_to_domain,
    competition_to_domain,
)
from services.procurement.policy import ALLOWED
from services.procurement.store import load_invitations, locked_competition
from shared.api_types import RequestBody
from shared.contracts import procurement_v1
from shared.errors import NotFound
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["procurement"])


class QuestionIn(RequestBody):
    # Length is the domain's rule (422 out_of_range naming the field), not pydantic's.
    question: str = Field(max_length=d.QUESTION_MAX * 2)


class AnswerIn(RequestBody):
    answer: str = Field(max_length=d.ANSWER_MAX * 2)


@router.post("/competitions/{competition_id}/clarifications", status_code=status.HTTP_201_CREATED)
async def ask(
    competition_id: str, body: QuestionIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """An invited provider's question, before questions close (409 clarifications_closed)."""
    provider_id = own_provider(actor)
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await locked_competition(uow, competition_id)
        c = competition_to_domain(row, await load_invitations(uow, competition_id))
        if not any(i.provider_id == provider_id for i in c.invitations):
            raise NotFound("competition", competition_id)  # others' call-offs stay hidden
        q = d.ask_clarification(
            c,
            clarification_id=str(uuid.uuid4()),
            provider_id=provider_id,
            question=body.question,
            now=now,
        )
        stored = clarification_row(q)
        uow.session.add(stored)
        uow.audit(
            actor, "clarification.asked", "competition", competition_id, clarification_id=stored.id
        )
    return clarification_view(stored, for_provider=provider_id) | {
        "clarifications_close_at": d.clarifications_close_at(row.deadline_at)
    }


@router.post("/competitions/{competition_id}/clarifications/{clarification_id}/answer")
async def answer(
    competition_id: str,
    clarification_id: str,
    body: AnswerIn,
    runtime: Runtime,
    actor: Actor = ALLOWED,
) -> dict[str, Any]:
    """Publish the answer, once, before the tender deadline, to every invited provider."""
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await locked_competition(uow, competition_id)
        stored = await uow.session.get(ClarificationRow, clarification_id)
        if stored is None or stored.competition_id != competition_id:
            raise NotFound("clarification", clarification_id)
        c = competition_to_domain(row, await load_invitations(uow, competition_id))
        q = d.answer_clarification(
            c, clarification_to_domain(stored), answer=body.answer, by=actor.id, now=now
        )
        stored.answer, stored.answered_by, stored.answered_at = q.answer, q.answered_by, now
        uow.session.add(stored)
        invited = sorted({i.provider_id for i in c.current_invitations()})
        uow.emit(
            procurement_v1.ClarificationAnswered(
                competition_id=competition_id,
                scheme_id=row.scheme_id,
                clarification_id=stored.id,
                round=stored.round,
                invited_provider_ids=invited,
                answered_at=now,
                deadline_at=row.deadline_at,
            ),
        )
        uow.audit(
            actor,
            "clarification.answered",
            "competition",
            competition_id,
            clarification_id=stored.id,
        )
    return clarification_view(stored)
