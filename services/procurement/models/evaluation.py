"""Clarification questions, evaluator scores and evaluations: tables and mapping."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from services.procurement import domain as d
from services.procurement.models._base import (
    ProcurementModel,
    _aware,
    _dec_or_none,
    _json,
    _str_or_none,
)
from services.procurement.models.competitions import CompetitionRow

# -------------------------------------------------------------- evaluator scores


class ClarificationRow(ProcurementModel, table=True):
    """A provider's clarification question on a call-off and the published answer
    (shown to every invited provider; who asked is for the council only)."""

    __tablename__ = "clarification"

    id: str = Field(primary_key=True, max_length=36)
    competition_id: str = Field(max_length=64, index=True, foreign_key="competition.id")
    round: int
    asked_by: str = Field(max_length=36)
    question: str = Field(max_length=2000)
    asked_at: datetime = _aware()
    answer: str | None = Field(default=None, max_length=5000)
    answered_by: str | None = Field(default=None, max_length=200)
    answered_at: datetime | None = _aware(nullable=True)


def clarification_to_domain(row: ClarificationRow) -> d.Clarification:
    return d.Clarification(
        clarification_id=row.id,
        competition_id=row.competition_id,
        round=row.round,
        asked_by=row.asked_by,
        question=row.question,
        asked_at=row.asked_at,
        answer=row.answer,
        answered_by=row.answered_by,
        answered_at=row.answered_at,
    )


def clarification_row(q: d.Clarification) -> ClarificationRow:
    return ClarificationRow(
        id=q.clarification_id,
        competition_id=q.competition_id,
        round=q.round,
        asked_by=q.asked_by,
        question=q.question,
        asked_at=q.asked_at,
        answer=q.answer,
        answered_by=q.answered_by,
        answered_at=q.answered_at,
    )


class EvaluatorScoreRow(ProcurementModel, table=True):
    """One evaluator's quality scores for one bid (re-scoring replaces them in place;
    the audit log keeps every submission)."""

    __tablename__ = "evaluator_score"
    __table_args__ = (UniqueConstraint("bid_id", "evaluator"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: str = Field(max_length=64, index=True, foreign_key="competition.id")
    bid_id: str = Field(max_length=36, foreign_key="bid.id")
    round: int
    evaluator: str = Field(max_length=200)
    scores: dict[str, str] = _json()
    comment: str | None = Field(default=None, max_length=2000)
    scored_at: datetime = _aware()


def evaluator_scores_to_domain(row: EvaluatorScoreRow) -> d.EvaluatorScores:
    return d.EvaluatorScores(
        bid_id=row.bid_id,
        evaluator=row.evaluator,
        scores={k: Decimal(v) for k, v in row.scores.items()},
        scored_at=row.scored_at,
        comment=row.comment,
    )


def set_aside_of(row: CompetitionRow) -> dict[str, str]:
    """Bid id -> reason, for the bids of the current round set aside at the deadline."""
    return {s["bid_id"]: s["reason"] for s in row.set_aside or [] if s["round"] == row.round}


# -------------------------------------------------------- evaluations and awards


class EvaluationRow(ProcurementModel, table=True):
    """The ranked, explainable evaluation of one round of a competition."""

    __tablename__ = "evaluation"
    __table_args__ = (UniqueConstraint("competition_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: str = Field(max_length=64, index=True, foreign_key="competition.id")
    round: int
    quality_weight: int
    price_weight: int
    lowest_price: str | None = Field(default=None, max_length=30)
    ranking: list[dict[str, Any]] = _json()
    non_compliant: list[dict[str, Any]] = _json()
    tie_break_rule: str = Field(max_length=1000)
    quality_basis: str = Field(max_length=1000)
    evaluated_at: datetime = _aware()


def evaluation_row(r: d.EvaluationResult, basis: str, at: datetime) -> EvaluationRow:
    return EvaluationRow(
        competition_id=r.competition_id,
        round=r.round,
        quality_weight=r.quality_weight,
        price_weight=r.price_weight,
        lowest_price=_str_or_none(r.lowest_price),
        ranking=[
            {
                "rank": s.rank,
                "bid_id": s.bid_id,
                "provider_id": s.provider_id,
                "price": str(s.price),
                "price_score": str(s.price_score),
                "quality_score": str(s.quality_score),
                "total": str(s.total),
                "question_scores": {k: str(v) for k, v in s.question_scores.items()},
                "submitted_at": s.submitted_at.isoformat(),
            }
            for s in r.ranking
        ],
        non_compliant=[asdict(n) for n in r.non_compliant],
        tie_break_rule=r.tie_break_rule,
        quality_basis=basis,
        evaluated_at=at,
    )


def evaluation_to_domain(row: EvaluationRow) -> d.EvaluationResult:
    return d.EvaluationResult(
        competition_id=row.competition_id,
        round=row.round,
        quality_weight=row.quality_weight,
        price_weight=row.price_weight,
        lowest_price=_dec_or_none(row.lowest_price),
        ranking=tuple(
            d.BidScore(
                rank=s["rank"],
                bid_id=s["bid_id"],
                provider_id=s["provider_id"],
                price=Decimal(s["price"]),
                price_score=Decimal(s["price_score"]),
                quality_score=Decimal(s["quality_score"]),
                total=Decimal(s["total"]),
                question_scores={k: Decimal(v) for k, v in s["question_scores"].items()},
                submitted_at=datetime.fromisoformat(s["submitted_at"]),
            )
            for s in row.ranking
        ),
        non_compliant=tuple(d.NonCompliantBid(**n) for n in row.non_compliant),
        tie_break_rule=row.tie_break_rule,
    )
