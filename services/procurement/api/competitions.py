"""HTTP routes of procurement's call-offs: open, read (as the council or a bidder), bid
and withdraw."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, status
from pydantic import AwareDatetime, Field
from sqlmodel import col, select

from services.procurement import domain as d
from services.procurement.api._common import Runtime, current_time, own_provider
from services.procurement.api.schemes import AwardQuestionIn
from services.procurement.clocks import start_competition_workflow
from services.procurement.commands import bids, district_centroid
from services.procurement.models import (
    AwardRow,
    BidRow,
    ClarificationRow,
    CompetitionRow,
    EvaluationRow,
    EvaluatorScoreRow,
    InvitationRow,
    ProviderRow,
    SchemeRow,
    award_to_domain,
    competition_to_domain,
    evaluation_to_domain,
)
from services.procurement.policy import ALLOWED
from shared.api_types import RequestBody
from shared.audit_read import READS, ReadAudit
from shared.contracts.common import Attendance, NeedType, Role
from shared.errors import DomainError, NotFound
from shared.runtime import ServiceRuntime
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["procurement"])


# =============================================================== competitions


class FilterIn(RequestBody):
    need_type: NeedType
    attendance: Attendance
    min_age: int | None = Field(default=None, ge=0, le=25)
    max_age: int | None = Field(default=None, ge=0, le=25)
    max_distance_km: float | None = None
    origin_postcode_district: str | None = None
    origin_easting: float | None = None
    origin_northing: float | None = None

    def to_domain(self) -> d.FilterCriteria:
        origin = None
        if self.origin_easting is not None and self.origin_northing is not None:
            origin = d.GridPoint(self.origin_easting, self.origin_northing)
        elif self.origin_postcode_district:
            origin = district_centroid(self.origin_postcode_district)
            if origin is None:
                raise DomainError("filter.origin_postcode_district", "unknown postcode district")
        return d.FilterCriteria(
            self.need_type,
            self.attendance,
            self.min_age,
            self.max_age,
            origin,
            self.max_distance_km,
        )


class QualityQuestionIn(AwardQuestionIn):
    pass


class CompetitionIn(RequestBody):
    scheme_id: str
    category_code: str
    kind: d.CompetitionKind
    title: str = Field(min_length=1, max_length=300)
    filter: FilterIn
    # Omitted: the scheme's published award criteria (any other value is refused, 422).
    quality_weight: int | None = None
    price_weight: int | None = None
    quality_questions: list[QualityQuestionIn] | None = None
    places: int = 1
    term_start: date | None = None
    term_end: date | None = None
    need_ref: str | None = None
    deadline_at: AwareDatetime
    urgent_reason: str | None = None

    def to_domain(
        self, competition_id: str, actor: Actor, published: d.AwardCriteria
    ) -> d.CompetitionSpec:
        questions = (
            published.quality_questions
            if self.quality_questions is None
            else tuple(q.to_domain() for q in self.quality_questions)
        )
        return d.CompetitionSpec(
            competition_id=competition_id,
            scheme_id=self.scheme_id,
            category_code=self.category_code,
            kind=self.kind,
            title=self.title,
            filter=self.filter.to_domain(),
            quality_weight=_or(self.quality_weight, published.quality_weight),
            price_weight=_or(self.price_weight, published.price_weight),
            quality_questions=questions,
            places=self.places,
            term_start=self.term_start,
            term_end=self.term_end,
            need_ref=self.need_ref,
            opened_by=actor.id,
        )


def _or(given: int | None, published: int) -> int:
    return published if given is None else given


@router.post("/competitions", status_code=status.HTTP_201_CREATED)
async def open_competition(
    body: CompetitionIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Open a call-off inviting all eligible members of the first tier that has any.

    With nobody eligible, the alert (procurement.competition.no_eligible_members) and
    the screening evidence are recorded, and the answer is a 422 saying why.
    """
    async with unit_of_work(runtime.db, runtime.source) as uow:
        c = await bids.open_competition(
            uow,
            actor,
            body.scheme_id,
            lambda competition_id, published: body.to_domain(competition_id, actor, published),
            deadline_at=body.deadline_at,
            urgent_reason=body.urgent_reason,
            now=current_time(),
        )
    refusal = bids.no_eligible_refusal(c)
    if refusal is not None:
        raise refusal
    await start_competition_workflow(runtime, c.competition_id, c.deadline_at)
    return await competition_view(runtime, c.competition_id, actor)


async def competition_view(
    runtime: ServiceRuntime, competition_id: str, actor: Actor
) -> dict[str, Any]:
    async with runtime.db.session() as session:
        row = await session.get(CompetitionRow, competition_id)
        if row is None:
            raise NotFound("competition", competition_id)
        invitations = (
            await session.exec(
                select(InvitationRow)
                .where(InvitationRow.competition_id == competition_id)
                .order_by(col(InvitationRow.id))
            )
        ).all()
        evaluation = (
            await session.exec(
                select(EvaluationRow)
                .where(EvaluationRow.competition_id == competition_id)
                .order_by(col(EvaluationRow.round).desc())
            )
        ).first()
        award = await session.get(AwardRow, competition_id)
        bids = (
            await session.exec(
                select(BidRow)
                .where(BidRow.competition_id == competition_id)
                .order_by(col(BidRow.submitted_at))
            )
        ).all()
        scores = (
            await session.exec(
                select(EvaluatorScoreRow)
                .where(EvaluatorScoreRow.competition_id == competition_id)
                .order_by(col(EvaluatorScoreRow.id))
            )
        ).all()
        evaluated_rounds = set(
            (
                await session.exec(
                    select(EvaluationRow.round).where(
                        EvaluationRow.competition_id == competition_id
                    )
                )
            ).all()
        )
        questions = (
            await session.exec(
                select(ClarificationRow)
                .where(ClarificationRow.competition_id == competition_id)
                .order_by(col(ClarificationRow.asked_at), col(ClarificationRow.id))
            )
        ).all()
        winner = await session.get(ProviderRow, award.provider_id) if award else None
        scheme = await session.get(SchemeRow, row.scheme_id)
    # Which law the call-off runs under (its scheme's regime), for every screen to say.
    regime = {
        "regime": scheme.regime if scheme is not None else None,
        "light_touch": bool(scheme.light_touch) if scheme is not None else False,
    }
    if actor.role == Role.PROVIDER.value:
        winner_name = winner.name if winner and winner.name else None
        view = _provider_view(row, invitations, evaluation, award, actor, winner_name)
        return view | regime | _provider_clarifications(row, questions, actor)
    return {
        "competition_id": row.id,
        "scheme_id": row.scheme_id,
        **regime,
        "category_code": row.category_code,
        "kind": row.kind,
        "title": row.title,
        "status": row.status,
        "round": row.round,
        "current_lot": row.current_lot,
        "need_ref": row.need_ref,
        "opened_at": row.opened_at,
        "deadline_at": row.deadline_at,
        "closed_at": row.closed_at,
        "urgent_reason": row.urgent_reason,
        "spec": row.spec,
        "invitations": [
            {
                "provider_id": i.provider_id,
                "lot_code": i.lot_code,
                "round": i.round,
                "reason": i.reason,
                "invited_at": i.invited_at,
            }
            for i in invitations
        ],
        "screenings": row.screenings,
        "tier_steps": row.tier_steps,
        "outcomes": row.outcomes,
        # Sealed until its round's deadline: who bid and when; the offer (prices and
        # answers to the quality questions, which evaluators score) once closed.
        "bids": [
            {
                "bid_id": b.id,
                "provider_id": b.provider_id,
                "round": b.round,
                "version": b.version,
                "superseded": b.superseded,
                "submitted_at": b.submitted_at,
                "withdrawn_at": b.withdrawn_at,
                "offer": b.offer if _unsealed(row, b) else None,
            }
            for b in bids
        ],
        "set_aside": row.set_aside or [],
        # Each evaluator scores blind to the others until the ranking moderates the
        # scores (their mean): until then a caller sees only its own score sheet.
        "scores_moderated": row.round in evaluated_rounds,
        "evaluator_scores": [
            {
                "bid_id": s.bid_id,
                "round": s.round,
                "evaluator": s.evaluator,
                "scores": s.scores,
                "comment": s.comment,
                "scored_at": s.scored_at,
            }
            for s in scores
            if s.round in evaluated_rounds or s.evaluator == actor.id
        ],
        "clarifications_close_at": d.clarifications_close_at(row.deadline_at),
        "clarifications": [clarification_view(q) for q in questions],
        "evaluation": None if evaluation is None else _evaluation_view(evaluation),
        "award": None if award is None else award.terms,
        "award_status": _award_status(award),
    }


def clarification_view(q: ClarificationRow, *, for_provider: str | None = None) -> dict[str, Any]:
    """A clarification as the council sees it or, with ``for_provider``, as an invited
    provider does: the question and answer, never who asked (only "asked by you")."""
    view: dict[str, Any] = {
        "clarification_id": q.id,
        "round": q.round,
        "question": q.question,
        "asked_at": q.asked_at,
        "answer": q.answer,
        "answered_at": q.answered_at,
    }
    if for_provider is None:
        return view | {"asked_by": q.asked_by, "answered_by": q.answered_by}
    return view | {"asked_by_you": q.asked_by == for_provider}


def _provider_clarifications(row: CompetitionRow, questions: Any, actor: Actor) -> dict[str, Any]:
    """Every answered clarification, and the provider's own questions still unanswered."""
    shown = [q for q in questions if q.answer is not None or q.asked_by == actor.provider_id]
    return {
        "clarifications_close_at": d.clarifications_close_at(row.deadline_at),
        "clarifications": [clarification_view(q, for_provider=actor.provider_id) for q in shown],
    }


def _award_status(award: AwardRow | None) -> str | None:
    """ "awarded, in standstill" until the contract is concluded when standstill ends."""
    if award is None:
        return None
    if award.contract_awaits_standstill and award.standstill_ended_at is None:
        return "in_standstill"
    return "contract_concluded"


def _unsealed(row: CompetitionRow, bid: BidRow) -> bool:
    return bid.round < row.round or row.status != d.CompetitionStatus.OPEN.value


def _evaluation_view(e: EvaluationRow) -> dict[str, Any]:
    return {
        "round": e.round,
        "quality_weight": e.quality_weight,
        "price_weight": e.price_weight,
        "lowest_price": e.lowest_price,
        "ranking": e.ranking,
        "non_compliant": e.non_compliant,
        "tie_break_rule": e.tie_break_rule,
        "quality_basis": e.quality_basis,
        "evaluated_at": e.evaluated_at,
    }


def _provider_view(
    row: CompetitionRow,
    invitations: Any,
    evaluation: EvaluationRow | None,
    award: AwardRow | None,
    actor: Actor,
    winner_name: str | None,
) -> dict[str, Any]:
    """A bidder sees its own invitation and, after award, the information reg 55/86
    gives it: its scores, the winner's, the winning bid's relative advantages and, where
    the rules require, the winner's name (built by the domain's losing_bidder_feedback)."""
    mine = [i for i in invitations if i.provider_id == actor.provider_id]
    if not mine:
        raise NotFound("competition", row.id)  # others' call-offs are not disclosed
    view: dict[str, Any] = {
        "competition_id": row.id,
        "title": row.title,
        "status": row.status,
        "round": row.round,
        "deadline_at": row.deadline_at,
        "spec": _provider_spec(row.spec),
        "invited_at": mine[-1].invited_at,
        "feedback": None,
    }
    if award is not None and evaluation is not None:
        questions = competition_to_domain(row, []).spec.quality_questions
        # the domain checks the award is the evaluation's winner
        feedback = d.losing_bidder_feedback(
            evaluation_to_domain(evaluation),
            award_to_domain(award),
            winner_name=winner_name,
            questions=questions,
        )
        own = [f for f in feedback if f.provider_id == actor.provider_id]
        if award.provider_id == actor.provider_id:
            view["feedback"] = {"outcome": "awarded to you"}
        elif own:
            view["feedback"] = _feedback_view(own[0])
        else:
            view["feedback"] = {"outcome": "no bid received from you"}
    return view


def _provider_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The need as a bidder sees it: the search point (near the child's home) and who
    opened the call-off stay with the council; the distance limit is enough to bid."""
    shown = {k: v for k, v in spec.items() if k != "opened_by"}
    shown["filter"] = {k: v for k, v in spec["filter"].items() if k != "origin"}
    return shown


def _feedback_view(f: d.BidderFeedback) -> dict[str, Any]:
    def text(x: Decimal | None) -> str | None:
        return None if x is None else str(x)

    return {
        "provider_id": f.provider_id,
        "outcome": f.outcome.value,
        "reason": f.reason,
        "own_rank": f.own_rank,
        "own_price_score": text(f.own_price_score),
        "own_quality_score": text(f.own_quality_score),
        "own_total": text(f.own_total),
        "winner_name": f.winner_name,
        "winner_price_score": text(f.winner_price_score),
        "winner_quality_score": text(f.winner_quality_score),
        "winner_total": text(f.winner_total),
        "relative_advantages": list(f.relative_advantages),
        "standstill_ends_at": f.standstill_ends_at,
    }


@router.get("/competitions/{competition_id}")
async def get_competition(
    competition_id: str, runtime: Runtime, actor: Actor = ALLOWED, reads: ReadAudit = READS
) -> dict[str, Any]:
    """The call-off with its invitation list (evidence) and, once evaluated, its ranking;
    an invited provider sees its own invitation and, after award, its feedback."""
    view = await competition_view(runtime, competition_id, actor)
    # A call-off is one child's need (its requirements, not who the child is): audited.
    await reads.record(actor, "competition", [(competition_id, None)])
    return view


class SupportItemIn(RequestBody):
    description: str
    amount: Decimal
    basis: d.ChargeBasis


class BidIn(RequestBody):
    fee_basis: d.FeeBasis
    core_fee: Decimal
    weeks_per_year: int
    start_date: date
    answers: dict[str, str] = {}
    additional_support: list[SupportItemIn] = []


@router.post("/competitions/{competition_id}/bids", status_code=status.HTTP_201_CREATED)
async def submit_bid(
    competition_id: str, body: BidIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """A sealed bid from an invited, active member before the deadline; a resubmission
    replaces the provider's live bid (the earlier one is kept, superseded)."""
    offer = d.BidOffer(
        provider_id=own_provider(actor),
        fee_basis=body.fee_basis,
        core_fee=body.core_fee,
        weeks_per_year=body.weeks_per_year,
        start_date=body.start_date,
        answers=body.answers,
        additional_support=tuple(
            d.SupportItem(i.description, i.amount, i.basis) for i in body.additional_support
        ),
    )
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        receipt = await bids.submit_bid(uow, actor, competition_id, offer, now)
    b = receipt.bid
    return {
        "bid_id": b.bid_id,
        "version": b.version,
        "replaces_bid_id": b.replaces_bid_id,
        "submitted_at": now,
        "deadline_at": receipt.deadline_at,
    }


@router.post("/competitions/{competition_id}/bids/withdrawal")
async def withdraw_bid(
    competition_id: str, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """The provider withdraws its live bid before the deadline and gets a receipt; the
    bid is kept (superseded) but not evaluated, and it may bid again before the deadline.
    From the deadline: 409 ``withdrawal_after_deadline`` (d.WITHDRAWAL_SOURCE)."""
    provider_id = own_provider(actor)
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        done = await bids.withdraw_bid(uow, actor, competition_id, provider_id, now)
    return {
        "competition_id": competition_id,
        "bid_id": done.bid.id,
        "version": done.bid.version,
        "withdrawn_at": now,
        "deadline_at": done.deadline_at,
        "rule": d.WITHDRAWAL_SOURCE,
    }
