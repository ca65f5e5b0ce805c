"""Kafka subscribers of monitoring: it watches every topic for quality evidence."""

from __future__ import annotations

from services.monitoring.models import ProviderProfile
from shared.contracts import providers_v1
from shared.envelope import Envelope
from shared.infra_models import utcnow
from shared.runtime import ServiceRuntime, Subscriptions
from shared.unit_of_work import UnitOfWork


async def on_provider_registered(
    uow: UnitOfWork, _envelope: Envelope, event: providers_v1.ProviderRegistered
) -> None:
    snapshot = event.provider
    profile = await uow.session.get(ProviderProfile, snapshot.provider_id)
    if profile is None:
        profile = ProviderProfile(
            provider_id=snapshot.provider_id,
            urn=snapshot.urn,
            name=snapshot.name,
            status=snapshot.status.value,
        )
    profile.name = snapshot.name
    profile.status = snapshot.status.value
    if snapshot.latest_inspection is not None:
        judgement = snapshot.latest_inspection.equivalent_judgement
        profile.ofsted_judgement = judgement.value if judgement else None
    profile.updated_at = utcnow()
    uow.session.add(profile)


def subscriptions(_runtime: ServiceRuntime) -> Subscriptions:
    return {
        providers_v1.TOPIC: {providers_v1.PROVIDER_REGISTERED: on_provider_registered},
    }
