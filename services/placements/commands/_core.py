"""The shared write of every placement change: saved with the status, review and spend
events it causes, and the block place and spend it moves."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from services.placements import domain, events, store
from services.placements.models import (
    ChildPlanRow,
    NeedRow,
    load_block,
    need_from_row,
    need_into_row,
    offer_from_row,
    offer_into_row,
    open_offer_for_need,
    plan_from_row,
    save_block,
    save_placement,
)
from shared.contracts import procurement_v1
from shared.contracts.placements_v1 import PlacementStatus
from shared.logging import get_logger
from shared.unit_of_work import Actor, UnitOfWork

log = get_logger(__name__)


# Awards do not carry a notice period or always a term end; these are the scheme's terms.
DEFAULT_NOTICE_PERIOD_WEEKS = 12
# The term of an individual placement agreement without a stated end: the same term
# procurement values the award over (shared contract constant).
DEFAULT_TERM_YEARS = procurement_v1.DEFAULT_INDIVIDUAL_TERM_YEARS
SERVICE_ACTOR = Actor(id="dps/placements", role="service")
_NAMESPACE = uuid.UUID("6f1c2a55-1d0b-4c8e-9a57-2f7f0b9e3c11")


def today() -> date:
    return datetime.now(UTC).date()


def derived_id(kind: str, source: str) -> str:
    """A stable id from the event that caused a row: a redelivered event cannot mint twins."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{source}"))


# ==========================================================================================
# Placement changes
# ==========================================================================================


async def record_placement(
    uow: UnitOfWork, before: domain.Placement | None, after: domain.Placement
) -> None:
    """Save a placement change and emit its status, review and spend events."""
    await save_placement(uow.session, after, before)
    for change in after.status_history[len(before.status_history) if before else 0 :]:
        if change.from_status is None:
            continue  # creation: placement.contract.created says it
        if change.from_status == change.to_status == PlacementStatus.ACTIVE:
            continue  # renewal: recorded in the status history, no status event
        uow.emit(events.status_event(after, change))
    base = before or replace(after, reviews=())
    for review in domain.review_changes(base, after):
        uow.emit(events.review_scheduled_event(after, review))
    for snapshot in await store.write_spend(uow.session, after, today()):
        uow.emit(snapshot)
    if domain.is_closed(after.status):
        await free_block_place(uow, after)
    if after.block_contract_id is not None:
        block = await load_block(uow.session, after.block_contract_id)
        if block is not None:
            await record_block_spend(uow, block)


async def record_block_spend(uow: UnitOfWork, block: domain.BlockContract) -> None:
    """Post the block's unfilled places to the spend ledger and publish what changed."""
    for snapshot in await store.write_block_spend(uow.session, block, today()):
        uow.emit(snapshot)


async def free_block_place(uow: UnitOfWork, placement: domain.Placement) -> None:
    """A closed placement gives its block contract place back."""
    if placement.block_contract_id is None:
        return
    block = await load_block(uow.session, placement.block_contract_id)
    number = None if block is None else domain.place_held_by(block, placement.placement_id)
    if block is None or number is None:
        return
    freed, occupant = domain.free_place(block, number)
    await save_block(uow.session, freed, SERVICE_ACTOR.id)
    uow.emit(events.block_place_event(freed, number, occupant, filled=False))


async def settle_open_offer(
    uow: UnitOfWork,
    need_id: str,
    by: str,
    reason: str,
    status: domain.BlockOfferStatus = domain.BlockOfferStatus.WITHDRAWN,
    placement_id: str | None = None,
) -> domain.BlockOffer | None:
    """Close the need's open block place offer when the council decides it instead (the
    commissioner's decision, or the need withdrawn), so the provider can no longer answer."""
    row = await open_offer_for_need(uow.session, need_id)
    if row is None:
        return None
    settled = domain.settle_block_offer(
        offer_from_row(row), status, by, datetime.now(UTC), reason, placement_id
    )
    uow.session.add(offer_into_row(settled, row))
    return settled


async def place_need(
    uow: UnitOfWork,
    need_ref: str | None,
    terms: Callable[[domain.PlacementNeed, date], domain.Award],
    placement_id: str,
    by: str,
    key: bytes,
    **audit: Any,
) -> domain.Placement:
    """The pending IPA that places a need (from a call-off award or a direct award): the
    need marked placed, the contract created (and started at once when its start date
    has come, else by its lifecycle workflow), audited against the child's pseudonym.
    An unknown need is a DomainError (dead-lettered)."""
    need_row = await uow.session.get(NeedRow, need_ref) if need_ref else None
    if need_row is None:
        raise domain.DomainError("need_ref", "unknown_need", f"no need {need_ref!r}")
    need = need_from_row(need_row)
    plan = plan_from_row(await uow.session.get(ChildPlanRow, need.child_ref))
    next_review = (plan.next_review_due if plan else None) or need.next_review_due
    at = datetime.now(UTC)
    created = domain.create_placement(terms(need, next_review), placement_id, by, at)
    uow.session.add(need_into_row(domain.mark_need_placed(need), need_row))
    uow.emit(events.contract_created_event(created))
    await record_placement(uow, None, created)
    if created.start_date <= today():
        started = domain.start_placement(created, created.start_date, SERVICE_ACTOR.id, at)
        await record_placement(uow, created, started)
        created = started
    uow.audit(
        SERVICE_ACTOR,
        "placement.created",
        "placement",
        placement_id,
        child=domain.pseudonym(need.child_ref, key),
        **audit,
    )
    return created
