"""Evaluator scoring, ranking, the award (or "no suitable bid", which may reopen the
next tier) of a call-off in evaluation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlmodel import select

from services.procurement import clocks, events
from services.procurement import domain as d
from services.procurement.commands.call_offs import emit_invitations, emit_no_eligible
from services.procurement.commands.evaluation import finish_evaluation
from services.procurement.models import (
    AwardRow,
    BidRow,
    CompetitionRow,
    EvaluationRow,
    EvaluatorScoreRow,
    apply_competition,
    bid_to_domain,
    competition_to_domain,
    evaluation_to_domain,
    evaluator_scores_to_domain,
    notice_row,
    scheme_to_domain,
    set_aside_of,
    tracked_notice_row,
)
from services.procurement.store import (
    category_membership,
    evaluator_score_rows,
    live_bids,
    load_invitations,
    load_memberships,
    load_providers,
    load_scheme_row,
    locked_competition,
)
from services.procurement.workflow_types import AwardSignal
from shared.errors import Conflict, NotFound
from shared.runtime import ServiceRuntime
from shared.unit_of_work import Actor, UnitOfWork

# A workflow start to run once the unit of work has committed.
AfterCommit = Callable[[ServiceRuntime], Awaitable[None]]


@dataclass(frozen=True)
class ScoredBid:
    scores: dict[str, str]
    comment: str | None
    replaced: bool
    unscored_bids: list[str]


async def score_bid(
    uow: UnitOfWork,
    competition_id: str,
    bid_id: str,
    *,
    evaluator: Actor,
    scores: Mapping[str, Decimal],
    comment: str | None,
    now: datetime,
) -> ScoredBid:
    """Record one evaluator's scores for one bid (replacing that evaluator's earlier ones)."""
    row = await locked_competition(uow, competition_id)
    bid = await uow.session.get(BidRow, bid_id)
    if bid is None or bid.competition_id != competition_id:
        raise NotFound("bid", bid_id)
    c = competition_to_domain(row, await load_invitations(uow, competition_id))
    live = None if bid.superseded else bid_to_domain(bid)
    entry = d.record_evaluator_scores(
        c,
        live,
        set_aside=set_aside_of(row),
        evaluator=evaluator.id,
        scores=dict(scores),
        comment=comment,
        now=now,
    )
    existing = (
        await uow.session.exec(
            select(EvaluatorScoreRow).where(
                EvaluatorScoreRow.bid_id == bid_id, EvaluatorScoreRow.evaluator == evaluator.id
            )
        )
    ).first()
    target = existing or EvaluatorScoreRow(
        competition_id=competition_id, bid_id=bid_id, round=row.round, evaluator=evaluator.id
    )
    target.scores = {k: str(v) for k, v in entry.scores.items()}
    target.comment = entry.comment
    target.scored_at = now
    uow.session.add(target)
    uow.audit(
        evaluator,
        "bid.scored",
        "competition",
        competition_id,
        bid_id=bid_id,
        scores=target.scores,
        replaced=existing is not None,
    )
    await uow.session.flush()
    scored = {s.bid_id for s in await evaluator_score_rows(uow, row)}
    bids = await live_bids(uow, row)
    aside = set_aside_of(row)
    return ScoredBid(
        scores=target.scores,
        comment=entry.comment,
        replaced=existing is not None,
        unscored_bids=[b.bid_id for b in bids if b.bid_id not in aside and b.bid_id not in scored],
    )


async def rank_evaluation(
    uow: UnitOfWork, competition_id: str, *, actor: Actor, now: datetime
) -> d.EvaluationResult:
    """Rank a call-off in ``evaluation`` on price and the evaluators' moderated scores."""
    row = await locked_competition(uow, competition_id)
    c = competition_to_domain(row, await load_invitations(uow, competition_id))
    if c.status is not d.CompetitionStatus.EVALUATION:
        raise Conflict("status", f"{d.Rule.INVALID_TRANSITION}: competition is {c.status}")
    bids = await live_bids(uow, row)
    entries = [evaluator_scores_to_domain(s) for s in await evaluator_score_rows(uow, row)]
    return finish_evaluation(uow, row, c, bids, set_aside_of(row), entries, actor, now)


async def decide_award(
    uow: UnitOfWork,
    competition_id: str,
    *,
    decision: Literal["approve", "no_suitable_bid"],
    reason: str,
    deadline_at: datetime | None,
    actor: Actor,
    now: datetime,
    after_commit: list[AfterCommit],
) -> AwardSignal:
    """Approve the top-ranked bid, or declare no suitable bid (reopen the next tier
    where the scheme is tiered, else escalate); the clocks to start go to after_commit."""
    row = await locked_competition(uow, competition_id)
    c = competition_to_domain(row, await load_invitations(uow, competition_id))
    scheme = scheme_to_domain(await load_scheme_row(uow, row.scheme_id))
    if decision == "approve":
        return await _approve(uow, row, c, scheme, actor, now, after_commit)
    return await _no_suitable_bid(uow, row, c, scheme, reason, deadline_at, actor, now)


async def _approve(
    uow: UnitOfWork,
    row: CompetitionRow,
    c: d.Competition,
    scheme: d.Scheme,
    actor: Actor,
    now: datetime,
    after_commit: list[AfterCommit],
) -> AwardSignal:
    evaluation = (
        await uow.session.exec(
            select(EvaluationRow).where(
                EvaluationRow.competition_id == row.id, EvaluationRow.round == row.round
            )
        )
    ).first()
    if evaluation is None:
        raise d.rule_broken("status", d.Rule.INVALID_TRANSITION, f"competition is {row.status}")
    result = evaluation_to_domain(evaluation)
    winner = result.winner
    bids = []
    member = None
    if winner is not None:
        bid = await uow.session.get(BidRow, winner.bid_id)
        bids = [bid_to_domain(bid)] if bid else []
        member = await category_membership(uow, row, winner.provider_id)
    scorers = await uow.session.exec(
        select(EvaluatorScoreRow.evaluator).where(EvaluatorScoreRow.competition_id == row.id)
    )
    c, award = d.approve_award(
        c,
        scheme,
        result,
        bids,
        approved_by=actor.id,
        winner_membership=member,
        now=now,
        scorers=frozenset(scorers.all()),
    )
    payload = events.competition_awarded(award, scheme.regime.value)
    apply_competition(row, c)
    uow.session.add(row)
    uow.session.add(
        AwardRow(
            competition_id=row.id,
            bid_id=award.bid_id,
            provider_id=award.provider_id,
            round=award.round,
            approved_by=actor.id,
            approved_at=now,
            contract_value=str(award.contract_value),
            terms=payload.model_dump(mode="json"),
            contract_awaits_standstill=award.contract_awaits_standstill,
            standstill_ends_at=award.standstill_ends_at,
        )
    )
    notice = d.award_notice(award, scheme, c)
    owed = d.track_award_notices(notice, scheme, award)  # by regime: d.NOTICE_RULES
    uow.session.add(notice_row(notice))
    uow.session.add_all([tracked_notice_row(t) for t in owed])
    uow.emit(payload)
    uow.audit(
        actor,
        "competition.awarded",
        "competition",
        row.id,
        bid_id=award.bid_id,
        provider_id=award.provider_id,
        value=str(award.contract_value),
        standstill=award.standstill_reason,
    )
    after_commit.append(lambda rt: clocks.start_notice_clocks(rt, owed))
    if award.standstill_ends_at is not None:
        ends_at = award.standstill_ends_at
        after_commit.append(
            lambda rt: clocks.start_standstill_clock(rt, award.competition_id, ends_at)
        )
    return AwardSignal(outcome="awarded")


async def _no_suitable_bid(
    uow: UnitOfWork,
    row: CompetitionRow,
    c: d.Competition,
    scheme: d.Scheme,
    reason: str,
    deadline_at: datetime | None,
    actor: Actor,
    now: datetime,
) -> AwardSignal:
    c, outcome = d.declare_no_suitable_bid(c, scheme, reason=reason, declared_by=actor.id, now=now)
    uow.emit(events.no_suitable_bid(row.id, row.scheme_id, outcome, actor.id, now))
    row.outcomes = [
        *row.outcomes,
        {
            "round": outcome.round,
            "lot_code": outcome.lot_code,
            "reason": outcome.reason,
            "next_action": outcome.next_action.value,
            "declared_by": actor.id,
            "declared_at": now.isoformat(),
        },
    ]
    uow.audit(actor, "competition.no_suitable_bid", "competition", row.id, reason=reason)
    if outcome.next_action is d.NextAction.ESCALATE:
        apply_competition(row, c)
        uow.session.add(row)
        return AwardSignal(outcome="escalated")
    return await _reopen(uow, row, c, scheme, reason, deadline_at, now)


async def _reopen(
    uow: UnitOfWork,
    row: CompetitionRow,
    c: d.Competition,
    scheme: d.Scheme,
    reason: str,
    deadline_at: datetime | None,
    now: datetime,
) -> AwardSignal:
    deadline = deadline_at or now + timedelta(days=d.tender_floor_days(scheme, c.urgent_reason))
    memberships = await load_memberships(uow, scheme.scheme_id)
    providers, documents = await load_providers(uow, [m.provider_id for m in memberships])
    before = len(c.invitations)
    c = d.reopen_next_tier(
        c,
        scheme,
        reason=reason,
        deadline_at=deadline,
        memberships=memberships,
        providers=providers,
        documents=documents,
        now=now,
        urgent_reason=c.urgent_reason,
    )
    apply_competition(row, c)
    uow.session.add(row)
    new = c.invitations[before:]
    if c.status is d.CompetitionStatus.NO_ELIGIBLE_MEMBERS:
        emit_no_eligible(uow, c, now)
        return AwardSignal(outcome="escalated")
    uow.emit(events.competition_reopened(c, reason, deadline, len(new), now))
    emit_invitations(uow, c, new)
    return AwardSignal(outcome="reopened", deadline_at=deadline)
