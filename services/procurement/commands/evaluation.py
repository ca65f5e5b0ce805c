"""Closing a call-off at its deadline and ranking its bids."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import col, select

from services.procurement import domain as d
from services.procurement import events
from services.procurement.commands._actors import CLOCK
from services.procurement.models import (
    CompetitionRow,
    MembershipRow,
    ProviderRow,
    SchemeRow,
    apply_competition,
    competition_to_domain,
    documents_to_domain,
    evaluation_row,
    membership_to_domain,
    provider_to_domain,
    scheme_to_domain,
    set_aside_of,
)
from services.procurement.store import live_bids, load_invitations, lock
from services.procurement.workflow_types import CompetitionCheck, CompetitionState
from shared.unit_of_work import Actor, UnitOfWork
from shared.working_days import london_date

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


def _state(row: CompetitionRow) -> CompetitionState:
    return CompetitionState(status=row.status, round=row.round, deadline_at=row.deadline_at)


async def close_and_evaluate(uow: UnitOfWork, check: CompetitionCheck) -> CompetitionState:
    """At the deadline: close the call-off, score its live bids and rank them."""
    await lock(uow, CompetitionRow, check.competition_id)
    row = await uow.session.get(CompetitionRow, check.competition_id)
    if row is None:
        raise LookupError(f"competition {check.competition_id} not found")
    if row.status != d.CompetitionStatus.OPEN.value or check.now < row.deadline_at:
        return _state(row)
    await evaluate_row(uow, row, check.now)
    return _state(row)


async def evaluate_row(
    uow: UnitOfWork, row: CompetitionRow, now: datetime
) -> d.EvaluationResult | None:
    """Close one open competition at its deadline inside ``uow`` (also used by the bench).

    Bids are checked for compliance at the deadline (set-aside bids are recorded with
    the reason). With quality questions and a compliant bid, the call-off then waits in
    ``evaluation`` for the evaluators' scores (None is returned); otherwise it is
    evaluated at once (price only, or nothing to score) and the result returned.
    """
    invitations = await load_invitations(uow, row.id)
    scheme_row = await uow.session.get(SchemeRow, row.scheme_id)
    assert scheme_row is not None
    scheme = scheme_to_domain(scheme_row)
    c = d.close_competition(competition_to_domain(row, invitations), now)
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
    uow.emit(events.competition_closed(c, len(bids), now, awaiting_scores=waits))
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
    uow.emit(events.competition_evaluated(c, result, actor.id, now))
    uow.audit(
        actor,
        "competition.evaluated",
        "competition",
        c.competition_id,
        round=c.round,
        ranked=len(result.ranking),
        set_aside=len(result.non_compliant),
    )
    return result


async def assess_bids(
    uow: UnitOfWork, scheme: d.Scheme, c: d.Competition, bids: Sequence[d.Bid], today: date
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
    today: date,
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
