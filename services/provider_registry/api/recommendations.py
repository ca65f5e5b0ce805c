"""HTTP routes of suspension recommendations from monitoring: list them, decide one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from services.provider_registry import commands, domain, store
from services.provider_registry.api.bodies import Decision, DecisionIn, RecommendationOut
from services.provider_registry.models import RecommendationRow
from services.provider_registry.policy import ALLOWED
from shared import clock
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["providers"])


def _recommendation_out(row: RecommendationRow) -> RecommendationOut:
    return RecommendationOut(
        recommendation_id=row.id,
        provider_id=row.provider_id,
        reasons=row.reasons,
        alert_ids=row.alert_ids,
        evidence_refs=row.evidence_refs,
        recommended_at=row.recommended_at,
        raised_by=row.raised_by,
        grounds=row.grounds,
        status=row.status,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
    )


@router.get("/recommendations")
async def list_recommendations(
    status_: domain.RecommendationStatus | None = Query(default=None, alias="status"),
    provider_id: str | None = None,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[RecommendationOut]:
    """Suspension recommendations from monitoring, oldest first."""
    async with runtime.db.session() as session:
        rows = await store.recommendations(session, status_, provider_id)
    return [_recommendation_out(row) for row in rows]


@router.post("/recommendations/{recommendation_id}/decision")
async def decide_recommendation(
    recommendation_id: str,
    body: DecisionIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> RecommendationOut:
    """Accept (the provider is suspended) or reject (nothing happens) a recommendation."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await commands.decide_recommendation(
            uow,
            actor,
            recommendation_id,
            accept=body.decision is Decision.ACCEPT,
            reason=body.reason,
            at=clock.now(),
        )
    return _recommendation_out(row)
