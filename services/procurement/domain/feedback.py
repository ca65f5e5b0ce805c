"""Informing tenderers: feedback to unsuccessful bidders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require
from services.procurement.domain.evaluation import TIE_BREAK_RULE

if TYPE_CHECKING:
    from services.procurement.domain.awards import Award
    from services.procurement.domain.evaluation import BidScore, EvaluationResult
    from services.procurement.domain.schemes import QualityQuestion


# ------------------------------------------------------------------ tenderers


class FeedbackOutcome(StrEnum):
    """What a losing bidder is told about its bid."""

    UNSUCCESSFUL = "unsuccessful"
    NON_COMPLIANT = "non_compliant"


@dataclass(frozen=True, slots=True)
class BidderFeedback:
    """What an unsuccessful bidder is told (PCR 2015 reg 55(2), reg 86(2)): its own
    scores, the winner's scores, the relative advantages of the winning bid and, where
    the rules require it, the winner's name.

    The winner's price is not disclosed (commercial interests, reg 55(3)), only its scores.
    """

    provider_id: str
    bid_id: str
    outcome: FeedbackOutcome
    reason: str
    own_rank: int | None
    own_price_score: Decimal | None
    own_quality_score: Decimal | None
    own_total: Decimal | None
    winner_provider_id: str
    winner_price_score: Decimal
    winner_quality_score: Decimal
    winner_total: Decimal
    winner_name: str | None = None
    relative_advantages: tuple[str, ...] = ()
    standstill_ends_at: datetime | None = None


def winner_named_to(own: BidScore | None, award: Award) -> bool:
    """The winner's name goes to every bidder with an admissible (ranked) tender (reg
    55(2)(c)), and to every bidder when the award is under standstill (reg 86(2))."""
    return own is not None or award.contract_awaits_standstill


def relative_advantages(
    winner: BidScore, own: BidScore, questions: Sequence[QualityQuestion] = ()
) -> tuple[str, ...]:
    """Where the winning bid scored higher than this one, criterion by criterion."""
    texts = {q.question_id: q.text for q in questions}
    out = []
    if winner.price_score > own.price_score:
        out.append(f"price: the winning bid scored {winner.price_score}, yours {own.price_score}")
    for qid, w in sorted(winner.question_scores.items()):
        mine = own.question_scores.get(qid, Decimal(0))
        if w > mine:
            out.append(f"{texts.get(qid, qid)}: the winning bid scored {w}, yours {mine}")
    if not out:
        out.append(
            f"equal or lower on each criterion; ranked ahead by the tie-break ({TIE_BREAK_RULE})"
        )
    return tuple(out)


def losing_bidder_feedback(
    result: EvaluationResult,
    award: Award,
    *,
    winner_name: str | None = None,
    questions: Sequence[QualityQuestion] = (),
) -> tuple[BidderFeedback, ...]:
    """Feedback for every bidder other than the winner, ranked bidders first."""
    winner = result.winner
    _require(
        winner is not None and winner.bid_id == award.bid_id,
        "award",
        Rule.MISMATCH,
        "award is not the evaluation's winner",
    )
    assert winner is not None
    of = len(result.ranking)

    def feedback(
        provider_id: str, bid_id: str, outcome: FeedbackOutcome, reason: str, own: BidScore | None
    ) -> BidderFeedback:
        return BidderFeedback(
            provider_id=provider_id,
            bid_id=bid_id,
            outcome=outcome,
            reason=reason,
            own_rank=own.rank if own else None,
            own_price_score=own.price_score if own else None,
            own_quality_score=own.quality_score if own else None,
            own_total=own.total if own else None,
            winner_provider_id=winner.provider_id,
            winner_price_score=winner.price_score,
            winner_quality_score=winner.quality_score,
            winner_total=winner.total,
            winner_name=winner_name if winner_named_to(own, award) else None,
            relative_advantages=relative_advantages(winner, own, questions) if own else (),
            standstill_ends_at=award.standstill_ends_at,
        )

    ranked = [
        feedback(
            s.provider_id,
            s.bid_id,
            FeedbackOutcome.UNSUCCESSFUL,
            f"ranked {s.rank} of {of}: total {s.total} against the winner's {winner.total}",
            s,
        )
        for s in result.ranking[1:]
    ]
    set_aside = [
        feedback(n.provider_id, n.bid_id, FeedbackOutcome.NON_COMPLIANT, n.reason, None)
        for n in result.non_compliant
    ]
    return tuple(ranked + set_aside)
