"""Clarification questions on a call-off (an invited provider asks, a commissioner
answers: published to every invited provider of the round, never naming who asked), and
clarification requests on an application (the council asks, the applicant replies)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from services.procurement import domain as d
from services.procurement import events
from services.procurement.models import (
    ApplicationClarificationRow,
    ClarificationRow,
    CompetitionRow,
    application_clarification_to_domain,
    application_to_domain,
    clarification_row,
    clarification_to_domain,
    competition_to_domain,
)
from services.procurement.store import (
    invited_competition,
    load_invitations,
    locked_application,
    locked_competition,
)
from shared.errors import Conflict, NotFound
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


async def request_application_clarification(
    uow: UnitOfWork,
    actor: Actor,
    application_id: str,
    question: str,
    reply_by_on: date,
    now: datetime,
) -> ApplicationClarificationRow:
    """Ask the applicant to clarify or supplement, with a reply-by date; the clock runs on."""
    row = await locked_application(uow, application_id)
    if row.status != "submitted":  # the row holds no decision; its status says so
        raise Conflict("application_id", "already_decided: the application was decided")
    c = d.request_application_clarification(
        application_to_domain(row),
        request_id=str(uuid.uuid4()),
        question=question,
        reply_by_on=reply_by_on,
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
    return stored


async def answer_application_clarification(
    uow: UnitOfWork,
    actor: Actor,
    application_id: str,
    request_id: str,
    provider_id: str,
    answer: str,
    now: datetime,
) -> ApplicationClarificationRow:
    """The applicant's reply, once, before the reply-by date; another provider's: 404."""
    stored = await uow.session.get(ApplicationClarificationRow, request_id)
    if (
        stored is None
        or stored.application_id != application_id
        or stored.provider_id != provider_id
    ):
        raise NotFound("clarification_request", request_id)
    c = d.answer_application_clarification(
        application_clarification_to_domain(stored), answer=answer, now=now
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
    return stored
