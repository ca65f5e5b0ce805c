"""Suspension recommendations raised by hand: a monitoring officer recommends that the
commissioner suspend a provider, citing grounds and saying why. The recommendation goes
out on quality.v1 like the rules' ones; the provider register records it for the
commissioner, who decides (POST /recommendations/{id}/decision there)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from services.monitoring import domain, store
from services.monitoring.api._common import status_rule
from services.monitoring.commands import evidence
from services.monitoring.models import Recommendation
from services.monitoring.policy import ALLOWED
from shared.api_types import RequestBody
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["monitoring"])


class RecommendationIn(RequestBody):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    grounds: list[str] = Field(min_length=1, max_length=len(domain.SUSPENSION_GROUNDS))
    reason: str = Field(min_length=1, max_length=domain.SUSPENSION_REASON_MAX_LENGTH)


class RecommendationOut(BaseModel):
    recommendation_id: str
    provider_id: str
    reasons: list[str]
    grounds: list[str]
    raised_by: str | None
    recommended_at: datetime
    status: str
    decision: str | None


class GroundOut(BaseModel):
    code: str
    label: str
    source: str


def _out(row: Recommendation | domain.SuspensionRecommendation) -> RecommendationOut:
    return RecommendationOut(
        recommendation_id=row.recommendation_id,
        provider_id=row.provider_id,
        reasons=list(row.reasons),
        grounds=list(row.grounds),
        raised_by=row.raised_by,
        recommended_at=row.recommended_at,
        status=str(row.status),
        decision=row.decision,
    )


@router.get("/suspension-grounds")
async def suspension_grounds(_actor: Actor = ALLOWED) -> list[GroundOut]:
    """The grounds an officer may cite, each with its legal source."""
    return [
        GroundOut(code=g.code, label=g.label, source=g.source)
        for g in domain.SUSPENSION_GROUNDS.values()
    ]


@router.post(
    "/providers/{provider_id}/suspension-recommendations", status_code=status.HTTP_201_CREATED
)
async def recommend_suspension(
    provider_id: str,
    body: RecommendationIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> RecommendationOut:
    """Recommend suspension by hand (409 while another recommendation awaits a decision)."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        try:
            recommendation = await evidence.recommend_suspension_by_hand(
                uow, actor, provider_id, body.grounds, body.reason
            )
        except domain.DomainError as exc:
            raise status_rule(exc) from None
    return _out(recommendation)


@router.get("/providers/{provider_id}/suspension-recommendations")
async def list_recommendations(
    provider_id: str,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[RecommendationOut]:
    """The provider's recommendations (the rules' and the officers'), newest first."""
    async with runtime.db.session() as session:
        return [_out(row) for row in await store.recommendations(session, provider_id)]
