"""Clarification questions on a call-off: an invited provider asks before questions close
(d.CLARIFICATION_SOURCE); a commissioner answers, and the answer is published to every
invited provider of the round without naming who asked (equal treatment: PCR 2015 reg 18,
Procurement Act 2023 s.12), with ``procurement.clarification.answered`` through the outbox
so that a notification sender can tell them. Listed in ``GET /competitions/{id}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import Field

from services.procurement import domain as d
from services.procurement.api._common import Runtime, current_time, own_provider
from services.procurement.api.competitions import clarification_view
from services.procurement.commands import clarifications as commands
from services.procurement.policy import ALLOWED
from shared.api_types import RequestBody
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
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row, stored = await commands.ask_clarification(
            uow, actor, competition_id, provider_id, body.question, current_time()
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
    async with unit_of_work(runtime.db, runtime.source) as uow:
        stored = await commands.answer_clarification(
            uow, actor, competition_id, clarification_id, body.answer, current_time()
        )
    return clarification_view(stored)
