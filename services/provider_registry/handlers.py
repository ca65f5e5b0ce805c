"""Kafka subscribers of the provider register: what it learns from other services."""

from __future__ import annotations

from services.provider_registry import commands
from shared.contracts import quality_v1
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime, Subscriptions
from shared.unit_of_work import Actor, UnitOfWork


async def on_suspension_recommended(
    uow: UnitOfWork, envelope: Envelope, event: quality_v1.SuspensionRecommended
) -> None:
    """Keep the recommendation pending for a commissioner: never suspend on it alone."""
    actor = Actor(id=envelope.source, role="service")
    await commands.receive_recommendation(uow, actor, envelope.id, event)


def subscriptions(_runtime: ServiceRuntime) -> Subscriptions:
    """Topic -> event type -> handler."""
    return {
        quality_v1.TOPIC: {
            quality_v1.SuspensionRecommended.TYPE: on_suspension_recommended,
        },
    }
