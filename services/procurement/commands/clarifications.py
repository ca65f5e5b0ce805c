"""Clarification questions on a call-off: an invited provider asks, a commissioner
answers (published to every invited provider of the round, never naming who asked)."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.procurement import domain as d
from services.procurement import events
from services.procurement.models import (
    ClarificationRow,
    CompetitionRow,
    clarification_row,
    clarification_to_domain,
    competition_to_domain,
)
from services.procurement.store import invited_competition, load_invitations, locked_competition
from shared.errors import NotFound
from shared.unit_of_work import Actor, UnitOfWork


async def ask_clarification(
    uow: UnitOfWork,
    actor: Actor,
    competition_id: str,
    provider_id: str,
    question: str,
    now: datetime,
) -> tuple[CompetitionRow, ClarificationRow]:
    """An invited provider's question, before questions close (409 clarifications_closed)."""
    row, c = await invited_competition(uow, competition_id, provider_id)
    q = d.ask_clarification(
        c, clarification_id=str(uuid.uuid4()), provider_id=provider_id, question=question, now=now
    )
    stored = clarification_row(q)
    uow.session.add(stored)
    uow.audit(
        actor, "clarification.asked", "competition", competition_id, clarification_id=stored.id
    )
    return row, stored


async def answer_clarification(
    uow: UnitOfWork,
    actor: Actor,
    competition_id: str,
    clarification_id: str,
    answer: str,
    now: datetime,
) -> ClarificationRow:
    """Publish the answer, once, before the tender deadline, to every invited provider."""
    row = await locked_competition(uow, competition_id)
    stored = await uow.session.get(ClarificationRow, clarification_id)
    if stored is None or stored.competition_id != competition_id:
        raise NotFound("clarification", clarification_id)
    c = competition_to_domain(row, await load_invitations(uow, competition_id))
    q = d.answer_clarification(
        c, clarification_to_domain(stored), answer=answer, by=actor.id, now=now
    )
    stored.answer, stored.answered_by, stored.answered_at = q.answer, q.answered_by, now
    uow.session.add(stored)
    uow.emit(events.clarification_answered(c, q, now))
    uow.audit(
        actor, "clarification.answered", "competition", competition_id, clarification_id=stored.id
    )
    return stored
