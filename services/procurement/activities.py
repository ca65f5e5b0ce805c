"""Temporal activities of the procurement service: the I/O its workflows need.

Every activity takes the workflow's ``now`` (its deterministic clock) instead of reading
the wall clock, so the 10/15-working-day clock and the tender deadline behave the same
under time skipping as in production. Each one re-reads the database and is idempotent:
a retried or duplicated activity changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlmodel import col, select
from temporalio import activity

from services.procurement import domain as d
from services.procurement.handlers import lock
from services.procurement.models import (
    ApplicationRow,
    BidRow,
    CompetitionRow,
    InvitationRow,
    MembershipRow,
    ProviderRow,
    SchemeRow,
    SelfDeclarationRow,
    apply_competition,
    bid_to_domain,
    competition_to_domain,
    documents_to_domain,
    evaluation_row,
    membership_to_domain,
    provider_to_domain,
    scheme_to_domain,
    self_declaration_to_domain,
    set_aside_of,
)
from shared.contracts import procurement_v1
from shared.db import Database
from shared.runtime import ServiceRuntime
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work
from shared.working_days import london_date

DECLARATION_OVERDUE_ACTIVITY = "procurement.mark_self_declaration_overdue"
REMIND_ACTIVITY = "procurement.remind_evaluators"
OVERDUE_ACTIVITY = "procurement.mark_application_overdue"
CLOSE_ACTIVITY = "procurement.close_and_evaluate"
CLOCK = Actor(id="dps/procurement/workflow", role="service")
SET_ASIDE_BASIS = (
    "Bids of providers not active in the register, with a membership not active or with "
    "missing/expired documents at the deadline are set aside as non-compliant."
)
EVALUATOR_QUALITY_BASIS = (
    "Quality: each compliant bid is scored per quality question (0 to the question's "
    "maximum) by evaluators (commissioners or admins, each recorded by id); a question's "
    "score is the mean of the evaluators' latest scores (2 d.p.), weighted by question "
    "and scaled to the quality weight. Price: lowest compliant first-year cost per place "
    "/ this bid's x the price weight. " + SET_ASIDE_BASIS
)
PRICE_ONLY_BASIS = (
    "No quality questions (quality weight 0): price only, evaluated automatically at the "
    "deadline; lowest compliant first-year cost per place / this bid's x the price "
    "weight. " + SET_ASIDE_BASIS
)


class ApplicationClock(BaseModel):
    """What an application's workflow waits for: the reminder and the deadline."""

    application_id: str
    reminder_at: datetime
    due_at: datetime


class ClockCheck(BaseModel):
    application_id: str
    now: datetime


class ClockState(BaseModel):
    """The application as stored: ``done`` says the step asked for has happened."""

    decided: bool
    done: bool
    clock: ApplicationClock


class CompetitionClock(BaseModel):
    competition_id: str
    deadline_at: datetime


class CompetitionCheck(BaseModel):
    competition_id: str
    now: datetime


class AwardSignal(BaseModel):
    """What the commissioner decided after evaluation (signalled to the call-off)."""

    outcome: Literal["awarded", "escalated", "reopened"]
    deadline_at: datetime | None = None


class CompetitionState(BaseModel):
    status: str
    round: int
    deadline_at: datetime


# ---------------------------------------------------------------- applications


def _clock(row: ApplicationRow) -> ApplicationClock:
    return ApplicationClock(application_id=row.id, reminder_at=row.reminder_at, due_at=row.due_at)


async def remind_evaluators(db: Database, source: str, check: ClockCheck) -> ClockState:
    """Record the day-7 reminder to the evaluators (once per reminder date)."""
    async with unit_of_work(db, source) as uow:
        await lock(uow, ApplicationRow, check.application_id)
        row = await uow.session.get(ApplicationRow, check.application_id)
        if row is None:
            raise LookupError(f"application {check.application_id} not found")
        decided = row.status == "decided"
        due = check.now >= row.reminder_at
        if not decided and due and (row.reminded_at is None or row.reminded_at < row.reminder_at):
            row.reminded_at = check.now
            uow.session.add(row)
            reminder = procurement_v1.ApplicationReminderDue(
                application_id=row.id,
                scheme_id=row.scheme_id,
                provider_id=row.provider_id,
                evaluation_due_on=row.due_on,
                evaluation_due_at=row.due_at,
                reminder_at=row.reminder_at,
                extended=row.extension_reason is not None,
                detected_at=check.now,
            )
            uow.emit_raw(procurement_v1.TOPIC, reminder.TYPE, reminder.subject(), reminder)
            uow.audit(
                CLOCK,
                "application.reminder_sent",
                "application",
                row.id,
                due_on=row.due_on.isoformat(),
            )
        return ClockState(decided=decided, done=decided or due, clock=_clock(row))


async def mark_overdue(db: Database, source: str, check: ClockCheck) -> ClockState:
    """Escalate an application still undecided when its evaluation period has run out."""
    async with unit_of_work(db, source) as uow:
        await lock(uow, ApplicationRow, check.application_id)
        row = await uow.session.get(ApplicationRow, check.application_id)
        if row is None:
            raise LookupError(f"application {check.application_id} not found")
        decided = row.status == "decided"
        due = check.now >= row.due_at
        if not decided and due and (row.overdue_at is None or row.overdue_at < row.due_at):
            row.overdue_at = check.now
            uow.session.add(row)
            _emit_overdue(uow, row, check.now)
        return ClockState(decided=decided, done=decided or due, clock=_clock(row))


def _emit_overdue(uow: UnitOfWork, row: ApplicationRow, now: datetime) -> None:
    payload = procurement_v1.ApplicationOverdue(
        application_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        evaluation_due_on=row.due_on,
        detected_at=now,
        extended=row.extension_reason is not None,
    )
    uow.emit_raw(procurement_v1.TOPIC, payload.TYPE, payload.subject(), payload)
    uow.audit(CLOCK, "application.overdue", "application", row.id, due_on=row.due_on.isoformat())


# ------------------------------------------------------- self-declarations


class DeclarationClock(BaseModel):
    """What a renewed self-declaration's workflow waits for: its due instant."""

    request_id: str
    due_at: datetime


class DeclarationCheck(BaseModel):
    request_id: str
    now: datetime


async def mark_declaration_overdue(db: Database, source: str, check: DeclarationCheck) -> bool:
    """Raise the alert for a renewed self-declaration still unanswered after its 5 working
    days (reg 34(25)), once; True when it is answered or was marked overdue."""
    async with unit_of_work(db, source) as uow:
        await lock(uow, SelfDeclarationRow, check.request_id)
        row = await uow.session.get(SelfDeclarationRow, check.request_id)
        if row is None:
            raise LookupError(f"self-declaration request {check.request_id} not found")
        request = self_declaration_to_domain(row)
        if not d.self_declaration_overdue(request, check.now):
            return request.answered or row.overdue_at is not None
        if row.overdue_at is None:
            row.overdue_at = check.now
            uow.session.add(row)
            payload = procurement_v1.SelfDeclarationOverdue(
                request_id=row.id,
                scheme_id=row.scheme_id,
                provider_id=row.provider_id,
                due_on=row.due_on,
                detected_at=check.now,
            )
            uow.emit_raw(procurement_v1.TOPIC, payload.TYPE, payload.subject(), payload)
            uow.audit(
                CLOCK,
                "self_declaration.overdue",
                "self_declaration",
                row.id,
                due_on=str(row.due_on),
            )
        return True


# ---------------------------------------------------------------- competitions


def _state(row: CompetitionRow) -> CompetitionState:
    return CompetitionState(status=row.status, round=row.round, deadline_at=row.deadline_at)


async def close_and_evaluate(
    db: Database, source: str, check: CompetitionCheck
) -> CompetitionState:
    """At the deadline: close the call-off, score its live bids and rank them."""
    async with unit_of_work(db, source) as uow:
        await lock(uow, CompetitionRow, check.competition_id)
        row = await uow.session.get(CompetitionRow, check.competition_id)
        if row is None:
            raise LookupError(f"competition {check.competition_id} not found")
        if row.status != d.CompetitionStatus.OPEN.value or check.now < row.deadline_at:
            return _state(row)
        await evaluate_row(uow, row, check.now)
        return _state(row)


async def live_bids(uow: UnitOfWork, row: CompetitionRow) -> list[d.Bid]:
    """The live (not superseded) bids of the competition's current round."""
    bid_rows = (
        await uow.session.exec(
            select(BidRow)
            .where(
                BidRow.competition_id == row.id,
                BidRow.round == row.round,
                col(BidRow.superseded).is_(False),
            )
            .order_by(col(BidRow.submitted_at), col(BidRow.id))
        )
    ).all()
    return [bid_to_domain(b) for b in bid_rows]


async def evaluate_row(
    uow: UnitOfWork, row: CompetitionRow, now: datetime
) -> d.EvaluationResult | None:
    """Close one open competition at its deadline inside ``uow`` (also used by the bench).

    Bids are checked for compliance at the deadline (set-aside bids are recorded with
    the reason). With quality questions and a compliant bid, the call-off then waits in
    ``evaluation`` for the evaluators' scores (None is returned); otherwise it is
    evaluated at once (price only, or nothing to score) and the result returned.
    """
    invitations = (
        await uow.session.exec(
            select(InvitationRow)
            .where(InvitationRow.competition_id == row.id)
            .order_by(col(InvitationRow.id))
        )
    ).all()
    scheme_row = await uow.session.get(SchemeRow, row.scheme_id)
    assert scheme_row is not None
    scheme = scheme_to_domain(scheme_row)
    c = d.close_competition(competition_to_domain(row, list(invitations)), now)
    bids = await live_bids(uow, row)
    compliance = await assess_bids(uow, scheme, c, bids, london_date(now))
    by_id = {b.bid_id: b for b in bids}
    set_aside = {k: a.reason or "" for k, a in compliance.items() if not a.compliant}
    # Bids set aside earlier in the round (a member suspended meanwhile) stay set aside.
    set_aside.update({k: r for k, r in set_aside_of(row).items() if k in by_id})
    row.set_aside = [
        *(s for s in row.set_aside or [] if s["round"] != row.round),
        *(
            {"bid_id": k, "provider_id": by_id[k].provider_id, "reason": r, "round": c.round}
            for k, r in sorted(set_aside.items(), key=lambda kv: by_id[kv[0]].provider_id)
        ),
    ]
    waits = d.needs_evaluator_scores(c, len(bids) - len(set_aside))
    _emit_closed(uow, c, len(bids), now, awaiting_scores=waits)
    if waits:
        c = d.start_evaluation(c)
        apply_competition(row, c)
        uow.session.add(row)
        uow.audit(
            CLOCK,
            "competition.evaluation_started",
            "competition",
            c.competition_id,
            round=c.round,
            to_score=len(bids) - len(set_aside),
            set_aside=len(set_aside),
        )
        return None
    return finish_evaluation(uow, row, c, bids, set_aside, (), CLOCK, now)


def finish_evaluation(
    uow: UnitOfWork,
    row: CompetitionRow,
    c: d.Competition,
    bids: Sequence[d.Bid],
    set_aside: dict[str, str],
    entries: Sequence[d.EvaluatorScores],
    actor: Actor,
    now: datetime,
) -> d.EvaluationResult:
    """Rank the bids on price and the evaluators' moderated quality scores, record the
    explainable result and emit ``procurement.competition.evaluated``."""
    assessments = d.evaluator_assessments(c, bids, set_aside, entries)
    c, result = d.evaluate_competition(c, bids, assessments)
    basis = EVALUATOR_QUALITY_BASIS if c.spec.quality_questions else PRICE_ONLY_BASIS
    apply_competition(row, c)
    uow.session.add(row)
    uow.session.add(evaluation_row(result, basis, now))
    _emit_evaluated(uow, c, result, actor, now)
    return result


async def assess_bids(
    uow: UnitOfWork, scheme: d.Scheme, c: d.Competition, bids: Sequence[d.Bid], today: Any
) -> dict[str, d.BidAssessment]:
    """Compliance of each bid at the deadline: compliant, or why it is set aside."""
    ids = [b.provider_id for b in bids]
    members = {
        m.provider_id: membership_to_domain(m)
        for m in (
            await uow.session.exec(
                select(MembershipRow).where(
                    MembershipRow.scheme_id == scheme.scheme_id,
                    MembershipRow.category_code == c.spec.category_code,
                    col(MembershipRow.provider_id).in_(ids),
                    MembershipRow.status != d.MembershipStatus.ENDED.value,
                )
            )
        ).all()
    }
    providers = {
        p.provider_id: p
        for p in (
            await uow.session.exec(select(ProviderRow).where(col(ProviderRow.provider_id).in_(ids)))
        ).all()
    }
    return {
        b.bid_id: _assess(
            scheme, c, b, members.get(b.provider_id), providers.get(b.provider_id), today
        )
        for b in bids
    }


def _assess(
    scheme: d.Scheme,
    c: d.Competition,
    bid: d.Bid,
    member: d.Membership | None,
    provider: ProviderRow | None,
    today: Any,
) -> d.BidAssessment:
    if member is None or member.status is not d.MembershipStatus.ACTIVE:
        why = f"membership {member.status if member else 'missing'} at the deadline"
        return d.BidAssessment(bid.bid_id, compliant=False, reason=why)
    if provider is None or not provider_to_domain(provider).active:
        return d.BidAssessment(
            bid.bid_id, compliant=False, reason="provider not active in the register"
        )
    problems = d.document_problems(scheme.required_documents, documents_to_domain(provider), today)
    if problems:
        return d.BidAssessment(
            bid.bid_id, compliant=False, reason="; ".join(p.message for p in problems)
        )
    return d.BidAssessment(bid.bid_id)


def _emit_closed(
    uow: UnitOfWork, c: d.Competition, bids: int, now: datetime, *, awaiting_scores: bool
) -> None:
    closed = procurement_v1.CompetitionClosed(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        round=c.round,
        closed_at=now,
        bids_received=bids,
        awaiting_evaluator_scores=awaiting_scores,
    )
    uow.emit_raw(procurement_v1.TOPIC, closed.TYPE, closed.subject(), closed)


def _emit_evaluated(
    uow: UnitOfWork, c: d.Competition, r: d.EvaluationResult, actor: Actor, now: datetime
) -> None:
    evaluated = procurement_v1.CompetitionEvaluated(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        round=c.round,
        quality_weight=r.quality_weight,
        price_weight=r.price_weight,
        ranking=[
            procurement_v1.RankedBid(
                rank=s.rank,
                bid_id=s.bid_id,
                provider_id=s.provider_id,
                price_score=s.price_score,
                quality_score=s.quality_score,
                total=s.total,
            )
            for s in r.ranking
        ],
        non_compliant=[
            procurement_v1.SetAsideBid(bid_id=n.bid_id, provider_id=n.provider_id, reason=n.reason)
            for n in r.non_compliant
        ],
        tie_break_rule=r.tie_break_rule,
        evaluated_at=now,
        evaluated_by=actor.id,
    )
    uow.emit_raw(procurement_v1.TOPIC, evaluated.TYPE, evaluated.subject(), evaluated)
    uow.audit(
        actor,
        "competition.evaluated",
        "competition",
        c.competition_id,
        round=c.round,
        ranked=len(r.ranking),
        set_aside=len(r.non_compliant),
    )


# -------------------------------------------------------------------- wiring


def activities(runtime: ServiceRuntime) -> Sequence[Callable[..., Any]]:
    """The activities bound to this runtime's database."""
    db, source = runtime.db, runtime.source

    @activity.defn(name=REMIND_ACTIVITY)
    async def remind(check: ClockCheck) -> ClockState:
        return await remind_evaluators(db, source, check)

    @activity.defn(name=OVERDUE_ACTIVITY)
    async def overdue(check: ClockCheck) -> ClockState:
        return await mark_overdue(db, source, check)

    @activity.defn(name=CLOSE_ACTIVITY)
    async def close(check: CompetitionCheck) -> CompetitionState:
        return await close_and_evaluate(db, source, check)

    @activity.defn(name=DECLARATION_OVERDUE_ACTIVITY)
    async def declaration_overdue(check: DeclarationCheck) -> bool:
        return await mark_declaration_overdue(db, source, check)

    return [remind, overdue, close, declaration_overdue]
