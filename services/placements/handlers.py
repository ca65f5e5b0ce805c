"""Kafka subscribers of placements: each translates an inbound event to a use case
(``commands``) and starts or pokes the workflows it touched (``clocks``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.placements import clocks, commands
from shared.consumer import batch_handler
from shared.contracts import ehc_plans_v1, procurement_v1, providers_v1
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime, Subscriptions
from shared.unit_of_work import UnitOfWork


def make_ehc_handlers(runtime: ServiceRuntime) -> dict[str, Callable[..., object]]:
    key = runtime.settings.pseudonym_key()  # the audit trail names children by pseudonym

    async def on_event(
        uow: UnitOfWork,
        book: commands.PlanBook,
        envelope: Envelope,
        payload: ehc_plans_v1.InboundEvent,
    ) -> None:
        change = book.apply(envelope, payload)
        placed = payload.child_ref in book.placed  # else no placement reviews to move
        moved: list[str] = []
        if isinstance(payload, ehc_plans_v1.EhcPlanIssued | ehc_plans_v1.EhcPlanAmended):
            if placed:
                moved = await commands.realign_after_plan_change(uow, change, payload.child_ref)
        elif isinstance(payload, ehc_plans_v1.EhcPlanReviewed):
            if placed:
                moved = await commands.realign_after_review(uow, change, payload)
        elif isinstance(payload, ehc_plans_v1.EhcPlanCeased):
            moved = await commands.end_for_ceased_plan(uow, change, payload, placed, key)
        else:
            await commands.raise_placement_need(uow, envelope, payload, key)
        clocks.poke_after_commit(runtime, uow, moved)

    @batch_handler
    async def on_ehc_events(
        uow: UnitOfWork, events: Sequence[tuple[Envelope, ehc_plans_v1.InboundEvent]]
    ) -> None:
        """Every EHC event of a batch, in order, with one read and one write of the
        children's plans (a council's bulk load is the service's hottest path)."""
        book = await commands.PlanBook.open(uow, {p.child_ref for _, p in events})
        for envelope, payload in events:
            uow.answering(envelope)
            await on_event(uow, book, envelope, payload)
        await book.save(uow)

    return {event_type: on_ehc_events for event_type in ehc_plans_v1.EVENT_TYPES}


def make_procurement_handlers(runtime: ServiceRuntime) -> dict[str, Callable[..., object]]:
    key = runtime.settings.pseudonym_key()

    async def on_awarded(
        uow: UnitOfWork, envelope: Envelope, payload: procurement_v1.CompetitionAwarded
    ) -> None:
        if payload.contract_awaits_standstill and not isinstance(
            payload, procurement_v1.CompetitionStandstillEnded
        ):
            # Awarded, in standstill: no contract exists until standstill ends (PCR 2015
            # regs 86-87); procurement.competition.standstill_ended makes it.
            return
        if payload.kind == "block":
            block = await commands.create_block_from_award(uow, payload)
            if block is not None:
                clocks.start_block_after_commit(runtime, uow, [block.block_contract_id])
            return
        created = await commands.create_placement_from_award(uow, envelope, payload, key)
        if created is not None:
            clocks.start_after_commit(runtime, uow, [created.placement_id])

    async def on_direct_award(
        uow: UnitOfWork, envelope: Envelope, payload: procurement_v1.DirectAwardRecorded
    ) -> None:
        # A direct award under the Act (s.41, Sch 5) places its need on the ground's basis.
        created = await commands.create_placement_from_direct_award(uow, envelope, payload, key)
        if created is not None:
            clocks.start_after_commit(runtime, uow, [created.placement_id])

    return {
        procurement_v1.CompetitionAwarded.TYPE: on_awarded,
        procurement_v1.CompetitionStandstillEnded.TYPE: on_awarded,
        procurement_v1.DirectAwardRecorded.TYPE: on_direct_award,
    }


async def on_provider_snapshot(
    uow: UnitOfWork,
    _envelope: Envelope,
    payload: providers_v1.ProviderRegistered | providers_v1.ProviderUpdated,
) -> None:
    provider = payload.provider
    await commands.remember_provider_name(
        uow, provider.provider_id, provider.name, provider.urn, provider.provider_type.value
    )


async def on_provider_status(
    uow: UnitOfWork, _envelope: Envelope, payload: providers_v1.ProviderStatusChanged
) -> None:
    await commands.remember_provider_name(uow, payload.provider_id, payload.name, payload.urn)


def subscriptions(runtime: ServiceRuntime) -> Subscriptions:
    """Topic -> event type -> handler."""
    return {
        ehc_plans_v1.TOPIC: make_ehc_handlers(runtime),  # type: ignore[dict-item]
        procurement_v1.TOPIC: make_procurement_handlers(runtime),  # type: ignore[dict-item]
        providers_v1.TOPIC: {
            providers_v1.PROVIDER_REGISTERED: on_provider_snapshot,
            providers_v1.PROVIDER_UPDATED: on_provider_snapshot,
            providers_v1.PROVIDER_STATUS_CHANGED: on_provider_status,
        },
    }
