"""Kafka subscribers of procurement: each translates an event into a command.

providers.v1 keeps our own snapshot of each provider (status, needs, ages, attendance,
grid position, documents); a provider suspended or removed in the register has its
memberships suspended or ended, so it is neither invited nor able to bid.
placements.v1 ``placement.need.raised`` opens an individual-placement call-off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.procurement import commands
from shared.contracts import placements_v1, providers_v1
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime, Subscriptions
from shared.unit_of_work import UnitOfWork


async def on_provider_registered(
    uow: UnitOfWork, _envelope: Envelope, payload: providers_v1.ProviderRegistered
) -> None:
    await commands.record_provider_snapshot(uow, payload.provider)


async def on_provider_updated(
    uow: UnitOfWork, _envelope: Envelope, payload: providers_v1.ProviderUpdated
) -> None:
    await commands.record_provider_snapshot(uow, payload.provider)


async def on_provider_status_changed(
    uow: UnitOfWork, _envelope: Envelope, payload: providers_v1.ProviderStatusChanged
) -> None:
    await commands.record_provider_status(uow, payload.provider_id, payload.status, payload.reason)


async def on_document_expiring(
    uow: UnitOfWork, _envelope: Envelope, payload: providers_v1.ProviderDocumentExpiring
) -> None:
    await commands.record_document_expiring(uow, payload)


def make_need_handler(runtime: ServiceRuntime) -> Callable[..., Awaitable[None]]:
    async def on_need_raised(
        uow: UnitOfWork, _envelope: Envelope, need: placements_v1.PlacementNeedRaised
    ) -> None:
        await commands.open_need_call_off(uow, runtime, need)

    return on_need_raised


def subscriptions(runtime: ServiceRuntime) -> Subscriptions:
    """Topic -> event type -> handler."""
    return {
        providers_v1.TOPIC: {
            providers_v1.PROVIDER_REGISTERED: on_provider_registered,
            providers_v1.PROVIDER_UPDATED: on_provider_updated,
            providers_v1.PROVIDER_STATUS_CHANGED: on_provider_status_changed,
            providers_v1.PROVIDER_DOCUMENT_EXPIRING: on_document_expiring,
        },
        placements_v1.TOPIC: {"placement.need.raised": make_need_handler(runtime)},
    }
