"""Use cases of monitoring that more than one entry point may need."""

from __future__ import annotations

import uuid

from services.monitoring import domain
from services.monitoring.handlers import publish_recommendation, recommendations_of
from shared.infra_models import utcnow
from shared.unit_of_work import Actor, UnitOfWork


async def recommend_suspension_by_hand(
    uow: UnitOfWork, actor: Actor, provider_id: str, grounds: list[str], reason: str
) -> domain.SuspensionRecommendation:
    """An officer's recommendation goes the way the rules' one does: kept here, published
    on quality.v1 (outbox) for the register, where a commissioner decides it."""
    recommendation = domain.recommend_suspension_by_hand(
        provider_id,
        grounds=grounds,
        reason=reason,
        raised_by=actor.id,
        existing=await recommendations_of(uow, provider_id),
        now=utcnow(),
        recommendation_id=str(uuid.uuid4()),
    )
    publish_recommendation(uow, recommendation)
    uow.audit(
        actor,
        "suspension.recommended_by_hand",
        "provider",
        provider_id,
        recommendation_id=recommendation.recommendation_id,
        grounds=list(recommendation.grounds),
    )
    return recommendation
