"""Kafka subscribers of the provider register: what it learns from other services."""

from __future__ import annotations

from services.provider_registry import domain
from services.provider_registry.models import RecommendationRow
from shared.contracts import quality_v1
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime, Subscriptions
from shared.unit_of_work import Actor, UnitOfWork


async def on_suspension_recommended(
    uow: UnitOfWork, envelope: Envelope, event: quality_v1.SuspensionRecommended
) -> None:
    """Keep the recommendation pending for a commissioner: never suspend on it alone."""
    if await uow.session.get(RecommendationRow, event.recommendation_id) is not None:
        return  # the same recommendation sent again under a new event id
    recommendation = domain.receive_recommendation(
        recommendation_id=event.recommendation_id,
        provider_id=event.provider_id,
        reasons=event.reasons,
        recommended_at=event.recommended_at,
        alert_ids=event.alert_ids,
        evidence_refs=event.evidence_refs,
        raised_by=event.raised_by,
        grounds=event.grounds,
    )
    uow.session.add(
        RecommendationRow(
            id=recommendation.recommendation_id,
            provider_id=recommendation.provider_id,
            reasons=list(recommendation.reasons),
            alert_ids=list(recommendation.alert_ids),
            evidence_refs=list(recommendation.evidence_refs),
            raised_by=recommendation.raised_by,
            grounds=list(recommendation.grounds),
            recommended_at=recommendation.recommended_at,
            status=recommendation.status.value,
        )
    )
    uow.audit(
        Actor(id=envelope.source, role="service"),
        "recommendation.received",
        "recommendation",
        recommendation.recommendation_id,
        provider_id=recommendation.provider_id,
        raised_by=recommendation.raised_by,
        event_id=envelope.id,
    )


def subscriptions(_runtime: ServiceRuntime) -> Subscriptions:
    """Topic -> event type -> handler."""
    return {
        quality_v1.TOPIC: {
            quality_v1.SuspensionRecommended.TYPE: on_suspension_recommended,
        },
    }
