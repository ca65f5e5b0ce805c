"""Evaluation of call-off bids: scores, ranking and evaluator moderation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text
from services.procurement.domain.bids import NonCompliantBid
from services.procurement.domain.competitions import CompetitionStatus, _require_status
from services.procurement.domain.schemes import AWARD_CRITERIA_SOURCE
from shared.fiscal import round_money

if TYPE_CHECKING:
    from services.procurement.domain.bids import Bid
    from services.procurement.domain.competitions import Competition
    from services.procurement.domain.schemes import QualityQuestion


# -------------------------------------------------------------------- evaluation

TIE_BREAK_RULE = (
    "Ranked by total score (2 d.p.), highest first; ties go to the higher quality score, "
    "then the lower evaluated price (first-year cost per place), then the earlier "
    "submission, then the provider id (alphabetical) so that the order is always total."
)


@dataclass(frozen=True, slots=True)
class BidAssessment:
    """Evaluators' moderated scores for one bid, or why it is not compliant."""

    bid_id: str
    scores: Mapping[str, Decimal] = field(default_factory=dict)
    compliant: bool = True
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class BidScore:
    """One compliant bid's explainable result."""

    rank: int
    bid_id: str
    provider_id: str
    price: Decimal  # first-year cost per place
    price_score: Decimal  # out of the price weight
    quality_score: Decimal  # out of the quality weight
    total: Decimal
    question_scores: Mapping[str, Decimal]
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """Ranked compliant bids plus those set aside; empty ranking = no suitable bid."""

    competition_id: str
    round: int
    quality_weight: int
    price_weight: int
    lowest_price: Decimal | None
    ranking: tuple[BidScore, ...]
    non_compliant: tuple[NonCompliantBid, ...]
    tie_break_rule: str = TIE_BREAK_RULE

    @property
    def no_suitable_bid(self) -> bool:
        return not self.ranking

    @property
    def winner(self) -> BidScore | None:
        return self.ranking[0] if self.ranking else None


def price_score(lowest: Decimal, price: Decimal, weight: int) -> Decimal:
    """lowest / price x weight, to 2 d.p.: the cheapest compliant bid gets the full weight."""
    return round_money(lowest / price * weight)


def quality_score(
    questions: Sequence[QualityQuestion], scores: Mapping[str, Decimal], weight: int
) -> Decimal:
    """Weighted evaluator scores scaled to the quality weight, to 2 d.p."""
    total_weight = sum(q.weight for q in questions)
    if weight == 0 or total_weight == 0:
        return round_money(Decimal(0))
    earned = sum(
        (Decimal(scores[q.question_id]) / q.max_score * q.weight for q in questions), Decimal(0)
    )
    return round_money(earned / total_weight * weight)


def _validate_bid_assessment(c: Competition, bid: Bid, a: BidAssessment | None) -> None:
    f = f"assessments.{bid.bid_id}"
    _require(a is not None, f, Rule.ASSESSMENT_MISSING, "bid not assessed")
    assert a is not None
    if not a.compliant:
        _require_text(a.reason, f + ".reason")
        return
    for q in c.spec.quality_questions:
        s = a.scores.get(q.question_id)
        _require(s is not None, f"{f}.{q.question_id}", Rule.ASSESSMENT_MISSING, "score needed")
        assert s is not None
        _require(0 <= s <= q.max_score, f"{f}.{q.question_id}", Rule.OUT_OF_RANGE, "out of range")


def score_bids(
    competition: Competition, bids: Sequence[Bid], assessments: Mapping[str, BidAssessment]
) -> EvaluationResult:
    """Score and rank the live bids of the current round (O(n log n), pure).

    Price score = lowest compliant price / this price x price weight; quality score =
    weighted evaluator scores x quality weight; total = both. See :data:`TIE_BREAK_RULE`.
    """
    c = competition
    current = [b for b in bids if b.competition_id == c.competition_id and b.round == c.round]
    providers = [b.provider_id for b in current]
    _require(len(set(providers)) == len(providers), "bids", Rule.DUPLICATE, "one live bid each")
    for b in current:
        _validate_bid_assessment(c, b, assessments.get(b.bid_id))
    compliant = [b for b in current if assessments[b.bid_id].compliant]
    set_aside = tuple(
        NonCompliantBid(b.bid_id, b.provider_id, assessments[b.bid_id].reason or "")
        for b in sorted(current, key=lambda b: b.provider_id)
        if not assessments[b.bid_id].compliant
    )
    lowest = min((b.offer.annual_cost for b in compliant), default=None)
    unranked = [_score_one(c, b, assessments[b.bid_id], lowest) for b in compliant]
    unranked.sort(key=_rank_key)
    ranking = tuple(replace(s, rank=i) for i, s in enumerate(unranked, start=1))
    return EvaluationResult(
        competition_id=c.competition_id,
        round=c.round,
        quality_weight=c.spec.quality_weight,
        price_weight=c.spec.price_weight,
        lowest_price=lowest,
        ranking=ranking,
        non_compliant=set_aside,
    )


def _score_one(c: Competition, bid: Bid, a: BidAssessment, lowest: Decimal | None) -> BidScore:
    assert lowest is not None
    price = bid.offer.annual_cost
    p = price_score(lowest, price, c.spec.price_weight)
    q = quality_score(c.spec.quality_questions, a.scores, c.spec.quality_weight)
    return BidScore(
        rank=0,
        bid_id=bid.bid_id,
        provider_id=bid.provider_id,
        price=price,
        price_score=p,
        quality_score=q,
        total=p + q,
        question_scores={
            qq.question_id: Decimal(a.scores[qq.question_id]) for qq in c.spec.quality_questions
        },
        submitted_at=bid.submitted_at,
    )


def _rank_key(s: BidScore) -> tuple[Decimal, Decimal, Decimal, datetime, str, str]:
    return (-s.total, -s.quality_score, s.price, s.submitted_at, s.provider_id, s.bid_id)


def evaluate_competition(
    competition: Competition,
    bids: Sequence[Bid],
    assessments: Mapping[str, BidAssessment],
) -> tuple[Competition, EvaluationResult]:
    """Score a closed call-off (or one in evaluation); it becomes ``evaluated``."""
    _require_status(competition, CompetitionStatus.CLOSED, CompetitionStatus.EVALUATION)
    result = score_bids(competition, bids, assessments)
    return replace(competition, status=CompetitionStatus.EVALUATED), result


# ----------------------------------------------------------- evaluator scoring


def needs_evaluator_scores(competition: Competition, compliant_bids: int) -> bool:
    """Whether a closed call-off waits for evaluators: it has quality questions and at
    least one compliant bid. Otherwise (price only, or nothing to score) it is
    evaluated automatically at the deadline."""
    return bool(competition.spec.quality_questions) and compliant_bids > 0


def start_evaluation(competition: Competition) -> Competition:
    """A closed call-off waits in ``evaluation`` for the evaluators' quality scores."""
    _require_status(competition, CompetitionStatus.CLOSED)
    return replace(competition, status=CompetitionStatus.EVALUATION)


@dataclass(frozen=True, slots=True)
class EvaluatorScores:
    """One evaluator's quality scores for one bid, per quality question."""

    bid_id: str
    evaluator: str
    scores: Mapping[str, Decimal]
    scored_at: datetime
    comment: str | None = None


def record_evaluator_scores(
    competition: Competition,
    bid: Bid | None,
    *,
    set_aside: Mapping[str, str],
    evaluator: str,
    scores: Mapping[str, Decimal],
    comment: str | None = None,
    now: datetime,
) -> EvaluatorScores:
    """Record an evaluator's scores for a live, compliant bid of the current round.

    Refused when the call-off is not in evaluation, the bid is unknown, superseded, of
    another round or set aside as non-compliant (``set_aside``: bid id -> reason), or
    when a question is unscored, unknown, out of 0..max_score or finer than 2 d.p. An
    evaluator who scores the same bid again replaces their earlier scores.
    """
    c = competition
    _require_status(c, CompetitionStatus.EVALUATION)
    evaluator = _require_text(evaluator, "evaluator")
    _require(
        bid is not None and bid.competition_id == c.competition_id and bid.round == c.round,
        "bid_id",
        Rule.UNKNOWN,
        "not a live bid of this round",
    )
    assert bid is not None
    reason = set_aside.get(bid.bid_id)
    _require(reason is None, "bid_id", Rule.BID_SET_ASIDE, f"bid set aside: {reason}")
    known = {q.question_id for q in c.spec.quality_questions}
    unknown = sorted(set(scores) - known)
    _require(
        not unknown, f"scores.{unknown[0] if unknown else ''}", Rule.UNKNOWN, "no such question"
    )
    clean: dict[str, Decimal] = {}
    for q in c.spec.quality_questions:
        f = f"scores.{q.question_id}"
        value = scores.get(q.question_id)
        _require(value is not None, f, Rule.ASSESSMENT_MISSING, "score needed")
        assert value is not None
        v = Decimal(value)
        _require(v.is_finite() and 0 <= v <= q.max_score, f, Rule.OUT_OF_RANGE, f"0..{q.max_score}")
        _require(v == round_money(v), f, Rule.OUT_OF_RANGE, "at most 2 decimal places")
        clean[q.question_id] = v
    return EvaluatorScores(bid.bid_id, evaluator, clean, now, (comment or "").strip() or None)


def moderated_scores(
    questions: Sequence[QualityQuestion], entries: Iterable[EvaluatorScores]
) -> dict[str, dict[str, Decimal]]:
    """Per bid, per question: the mean of each evaluator's latest scores, to 2 d.p."""
    latest: dict[tuple[str, str], EvaluatorScores] = {}
    for e in entries:
        key = (e.bid_id, e.evaluator)
        if key not in latest or e.scored_at >= latest[key].scored_at:
            latest[key] = e
    per_bid: dict[str, list[EvaluatorScores]] = {}
    for (bid_id, _), e in sorted(latest.items()):
        per_bid.setdefault(bid_id, []).append(e)
    return {
        bid_id: {
            q.question_id: round_money(
                sum((Decimal(e.scores[q.question_id]) for e in es), Decimal(0)) / len(es)
            )
            for q in questions
        }
        for bid_id, es in per_bid.items()
    }


def evaluator_assessments(
    competition: Competition,
    bids: Sequence[Bid],
    set_aside: Mapping[str, str],
    entries: Iterable[EvaluatorScores],
) -> dict[str, BidAssessment]:
    """Assessments from the evaluators' moderated scores; set-aside bids keep their reason.

    Refused (``assessment_missing``, naming the bids) while a compliant bid is unscored.
    """
    c = competition
    moderated = moderated_scores(c.spec.quality_questions, entries)
    out: dict[str, BidAssessment] = {}
    unscored: list[str] = []
    for b in bids:
        if b.bid_id in set_aside:
            out[b.bid_id] = BidAssessment(b.bid_id, compliant=False, reason=set_aside[b.bid_id])
        elif c.spec.quality_questions and b.bid_id not in moderated:
            unscored.append(f"{b.bid_id} ({b.provider_id})")
        elif below := _below_minimums(c.spec.quality_questions, moderated.get(b.bid_id, {})):
            out[b.bid_id] = BidAssessment(b.bid_id, compliant=False, reason=below)
        else:
            out[b.bid_id] = BidAssessment(b.bid_id, scores=moderated.get(b.bid_id, {}))
    _require(
        not unscored,
        "scores",
        Rule.ASSESSMENT_MISSING,
        "no evaluator has scored bid(s) " + ", ".join(unscored),
    )
    return out


def _below_minimums(questions: Sequence[QualityQuestion], scores: Mapping[str, Decimal]) -> str:
    """Why the moderated scores miss the published per-question minimums ("" if none)."""
    misses = [
        f"{q.question_id} scored {scores[q.question_id]}, below the published minimum {q.min_score}"
        for q in questions
        if q.min_score is not None and scores.get(q.question_id, Decimal(0)) < q.min_score
    ]
    return "; ".join(misses) + (f" ({AWARD_CRITERIA_SOURCE})" if misses else "")
