"""HTTP routes of procurement: evaluator scoring, ranking and the award (or "no suitable
bid", which may reopen the next tier)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import AwareDatetime, Field

from services.procurement import commands
from services.procurement.api._common import Runtime, current_time
from services.procurement.api.competitions import competition_view
from services.procurement.clocks import signal
from services.procurement.policy import ALLOWED
from services.procurement.workflow_types import competition_workflow_id
from shared.api_types import RequestBody
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["procurement"])


# ========================================================== evaluator scoring


class ScoresIn(RequestBody):
    """One evaluator's quality scores for one bid: question id -> score (0..max, 2 d.p.)."""

    scores: dict[str, Decimal]
    comment: str | None = Field(default=None, max_length=2000)


@router.post(
    "/competitions/{competition_id}/bids/{bid_id}/scores", status_code=status.HTTP_201_CREATED
)
async def score_bid(
    competition_id: str,
    bid_id: str,
    body: ScoresIn,
    runtime: Runtime,
    actor: Actor = ALLOWED,
) -> dict[str, Any]:
    """An evaluator (a commissioner, recorded by id; who scores cannot approve the award) scores one compliant bid on
    every quality question while the call-off is in ``evaluation``; scoring the same bid
    again replaces that evaluator's earlier scores. Several evaluators' scores are
    moderated by their mean when the evaluation is ranked."""
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        scored = await commands.score_bid(
            uow,
            competition_id,
            bid_id,
            evaluator=actor,
            scores=body.scores,
            comment=body.comment,
            now=now,
        )
    return {
        "competition_id": competition_id,
        "bid_id": bid_id,
        "evaluator": actor.id,
        "scores": scored.scores,
        "comment": scored.comment,
        "scored_at": now,
        "replaced": scored.replaced,
        "unscored_bids": scored.unscored_bids,
    }


@router.post("/competitions/{competition_id}/evaluation")
async def evaluate_competition(
    competition_id: str, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Rank a call-off in ``evaluation`` on price (relative to the lowest compliant bid)
    and the evaluators' moderated quality scores, with the tie-break stated up front.
    Refused (422 ``assessment_missing``, naming the bids) while a compliant bid is
    unscored; the commissioner then approves the award or declares no suitable bid."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        await commands.rank_evaluation(uow, competition_id, actor=actor, now=current_time())
    return await competition_view(runtime, competition_id, actor)


class AwardIn(RequestBody):
    decision: Literal["approve", "no_suitable_bid"]
    reason: str = ""
    deadline_at: AwareDatetime | None = None  # of the next tier's round, if reopened


@router.post("/competitions/{competition_id}/award")
async def award_competition(
    competition_id: str, body: AwardIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Approve the top-ranked bid, or declare no suitable bid (reopen the next tier
    where the scheme is tiered, else escalate)."""
    now = current_time()
    after_commit: list[commands.AfterCommit] = []
    async with unit_of_work(runtime.db, runtime.source) as uow:
        outcome = await commands.decide_award(
            uow,
            competition_id,
            decision=body.decision,
            reason=body.reason,
            deadline_at=body.deadline_at,
            actor=actor,
            now=now,
            after_commit=after_commit,
        )
    await signal(runtime, competition_workflow_id(competition_id), "award_decided", outcome)
    for start in after_commit:  # the standstill and notice clocks
        await start(runtime)
    return await competition_view(runtime, competition_id, actor)
