"""Use cases behind the placements API: each checks, calls the domain, saves the change
and emits its events in the caller's unit of work. ``key`` is the child pseudonym key
(the audit trail names a child by pseudonym)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlmodel import col, select

from services.placements import domain, events, store
from services.placements.commands._core import (
    SERVICE_ACTOR,
    derived_id,
    record_block_spend,
    record_placement,
    settle_open_offer,
)
from services.placements.models import (
    BlockContractRow,
    ChildPlanRow,
    NeedRow,
    UpliftRow,
    VariationRow,
    load_block,
    need_from_row,
    need_into_row,
    plan_from_row,
    save_block,
    uplift_from_row,
    uplift_into_row,
)
from shared.contracts.placements_v1 import (
    PlacementStatus,
    ReviewOutcome,
    UpliftDecision,
)
from shared.errors import Conflict, DomainError, NotFound
from shared.unit_of_work import Actor, UnitOfWork


def _child(key: bytes, child_ref: str) -> str:
    return domain.pseudonym(child_ref, key)


# --- placements ---------------------------------------------------------------------------


async def record_review_outcome(
    uow: UnitOfWork,
    actor: Actor,
    key: bytes,
    placement_id: str,
    review_id: str,
    outcome: ReviewOutcome,
    completed_on: date,
) -> domain.Placement:
    before = await store.placement_or_404(uow.session, placement_id)
    if review_id not in {r.review_id for r in before.reviews}:
        raise NotFound("review", review_id)
    after = domain.record_review_outcome(
        before, review_id, outcome, completed_on, actor.id, datetime.now(UTC)
    )
    uow.emit(
        events.review_completed_event(
            after, after.review(review_id), completed_on, outcome, actor.id
        )
    )
    await record_placement(uow, before, after)
    uow.audit(
        actor,
        "review.outcome",
        "placement",
        placement_id,
        child=_child(key, after.child_ref),
        review_id=review_id,
    )
    return after


async def request_uplift(
    uow: UnitOfWork,
    actor: Actor,
    key: bytes,
    placement_id: str,
    requested_percent: Decimal,
    effective_from: date,
    reason: str | None,
) -> domain.UpliftRequest:
    placement = await store.placement_or_404(uow.session, placement_id)
    # A provider sees only its own placements; answer 404 so ids are not probed.
    store.may_read(actor, placement.provider_id)
    pending = await uow.session.exec(
        select(UpliftRow).where(
            UpliftRow.placement_id == placement_id, col(UpliftRow.decision).is_(None)
        )
    )
    uplift = domain.request_uplift(
        placement,
        str(uuid.uuid4()),
        requested_percent,
        effective_from,
        actor.id,
        datetime.now(UTC),
        reason,
        others=[uplift_from_row(r) for r in pending.all()],
    )
    uow.session.add(uplift_into_row(uplift))
    uow.emit(events.uplift_requested_event(placement, uplift))
    uow.audit(
        actor,
        "uplift.requested",
        "placement",
        placement_id,
        child=_child(key, placement.child_ref),
        uplift=uplift.uplift_id,
        reason=reason,
    )
    return uplift


async def decide_uplift(
    uow: UnitOfWork,
    actor: Actor,
    key: bytes,
    uplift_id: str,
    decision: UpliftDecision,
    approved_percent: Decimal | None,
    reason: str | None,
) -> domain.Placement:
    row = await uow.session.get(UpliftRow, uplift_id)
    if row is None:
        raise NotFound("uplift", uplift_id)
    if row.decision is not None:
        raise Conflict("uplift_id", "uplift_already_decided")
    before = await store.placement_or_404(uow.session, row.placement_id)
    after, decided = domain.decide_uplift(
        before,
        uplift_from_row(row),
        decision,
        actor.id,
        datetime.now(UTC),
        reason,
        approved_percent,
    )
    uow.session.add(uplift_into_row(decided, row))
    uow.emit(events.uplift_decided_event(after, decided, decision, actor.id, reason))
    await record_placement(uow, before, after)
    uow.audit(
        actor,
        "uplift.decided",
        "placement",
        before.placement_id,
        child=_child(key, before.child_ref),
        uplift=uplift_id,
        reason=reason,
    )
    return after


async def vary_placement(
    uow: UnitOfWork,
    actor: Actor,
    key: bytes,
    placement_id: str,
    effective_from: date,
    reason: str,
    weekly_core_fee: Decimal | None,
    support: tuple[domain.SupportItem, ...] | None,
) -> tuple[str, domain.Placement]:
    """Vary the fee terms from a date; returns the variation id and the placement."""
    variation_id = str(uuid.uuid4())
    at = datetime.now(UTC)
    before = await store.placement_or_404(uow.session, placement_id)
    after = domain.vary_placement(
        before, effective_from, actor.id, at, reason, weekly_core_fee, support, ref=variation_id
    )
    uow.session.add(
        VariationRow(
            variation_id=variation_id,
            placement_id=placement_id,
            effective_from=effective_from,
            weekly_core_fee=weekly_core_fee,
            additional_support=None
            if support is None
            else [
                {"description": s.description, "weekly_amount": str(s.weekly_amount)}
                for s in support
            ],
            reason=reason,
            by=actor.id,
            at=at,
        )
    )
    uow.emit(events.varied_event(after, effective_from, reason, actor.id))
    await record_placement(uow, before, after)
    uow.audit(
        actor,
        "placement.varied",
        "placement",
        placement_id,
        child=_child(key, before.child_ref),
        variation=variation_id,
        reason=reason,
    )
    return variation_id, after


async def end_placement(
    uow: UnitOfWork,
    actor: Actor,
    key: bytes,
    placement_id: str,
    on: date,
    reason: str,
    terminate: bool,
) -> domain.Placement:
    before = await store.placement_or_404(uow.session, placement_id)
    if domain.is_closed(before.status):
        raise Conflict("status", f"already_{before.status.value}")
    if before.status == PlacementStatus.ENDING and not terminate:
        raise Conflict("status", "already_ending")
    at = datetime.now(UTC)
    if terminate or before.status == PlacementStatus.PENDING:
        after = domain.terminate_placement(before, on, actor.id, at, reason)
    else:
        after = domain.give_notice(before, on, actor.id, at, reason)
    await record_placement(uow, before, after)
    uow.audit(
        actor,
        "placement.end",
        "placement",
        placement_id,
        child=_child(key, before.child_ref),
        reason=reason,
    )
    return after


@dataclass(frozen=True)
class RenewalDecision:
    decision: str  # renew or decline
    reason: str
    new_term_end: date | None = None
    weekly_core_fee: Decimal | None = None


async def decide_renewal(
    uow: UnitOfWork,
    actor: Actor,
    key: bytes,
    placement_id: str,
    body: RenewalDecision,
    today: date,
) -> domain.Placement:
    at = datetime.now(UTC)
    before = await store.placement_or_404(uow.session, placement_id)
    new_term_from = before.term_end + timedelta(days=1)
    if body.decision == "renew":
        if body.new_term_end is None:
            raise DomainError("new_term_end", "required_to_renew")
        after = domain.renew_placement(before, body.new_term_end, actor.id, at, body.reason)
        if body.weekly_core_fee is not None:
            after = domain.vary_placement(
                after,
                new_term_from,
                actor.id,
                at,
                f"renewal fee: {body.reason}",
                weekly_core_fee=body.weekly_core_fee,
                ref=f"renewal:{body.new_term_end.isoformat()}",
            )
    else:
        if body.new_term_end is not None or body.weekly_core_fee is not None:
            raise DomainError("new_term_end", "not_allowed_when_declining")
        after = domain.decline_renewal(
            before, today, actor.id, at, f"renewal declined: {body.reason}"
        )
    await record_placement(uow, before, after)
    uow.emit(
        events.renewal_decided_event(
            before, body.decision, body.new_term_end, body.weekly_core_fee, actor.id, body.reason
        )
    )
    if body.weekly_core_fee is not None:
        uow.emit(events.varied_event(after, new_term_from, f"renewal fee: {body.reason}", actor.id))
    uow.audit(
        actor,
        f"renewal.{body.decision}",
        "placement",
        placement_id,
        child=_child(key, before.child_ref),
        reason=body.reason,
    )
    return after


async def record_imported(
    uow: UnitOfWork, actor: Actor, key: bytes, built: list[list[domain.Placement]], import_key: str
) -> None:
    """Save imported placements, each through its states from creation to now."""
    for states in built:
        created = states[0]
        uow.emit(events.contract_created_event(created))
        before: domain.Placement | None = None
        for state in states:
            await record_placement(uow, before, state)
            before = state
        uow.audit(
            actor,
            "placement.imported",
            "placement",
            created.placement_id,
            child=_child(key, created.child_ref),
            import_key=import_key,
        )


# --- block place offers ---------------------------------------------------------------------


@dataclass(frozen=True)
class OfferDecided:
    need: domain.PlacementNeed
    block: domain.BlockContract
    placement_id: str | None


async def decide_block_offer(
    uow: UnitOfWork,
    actor: Actor,
    key: bytes,
    row: NeedRow,
    decision: str,
    reason: str,
    start_date: date | None,
    offer_status: domain.BlockOfferStatus,
    today: date,
) -> OfferDecided:
    """Accept (a placement is made in the place) or decline (the place is freed and the
    need goes to procurement for a call-off) a need's offered block place."""
    at = datetime.now(UTC)
    need_id = row.need_id
    need = need_from_row(row)
    if need.status != domain.NeedStatus.BLOCK_PLACE_OFFERED or not need.block_contract_id:
        raise Conflict("status", f"no_block_offer: need is {need.status.value}")
    block = await load_block(uow.session, need.block_contract_id)
    if block is None:
        raise NotFound("block contract", need.block_contract_id)
    number = domain.place_held_by(block, need_id) or 0
    placement_id: str | None = None
    if decision == "accepted":
        placement_id = derived_id("placement", f"block-offer:{need_id}")
        plan = plan_from_row(await uow.session.get(ChildPlanRow, need.child_ref))
        placed, created, block_after = domain.accept_block_offer(
            need,
            block,
            placement_id,
            today,
            actor.id,
            at,
            next_review_due=plan.next_review_due if plan else None,
            start_date=start_date,
        )
        uow.session.add(need_into_row(placed, row))
        await save_block(uow.session, block_after, actor.id)
        uow.emit(events.contract_created_event(created))
        await record_placement(uow, None, created)
        if created.start_date <= today:
            started = domain.start_placement(created, created.start_date, SERVICE_ACTOR.id, at)
            await record_placement(uow, created, started)
        uow.emit(events.block_place_event(block_after, number, placement_id, filled=True))
    else:
        referred, freed, number = domain.decline_block_offer(need, block, reason)
        uow.session.add(need_into_row(referred, row))
        await save_block(uow.session, freed, actor.id)
        uow.emit(events.block_place_event(freed, number, need_id, filled=False))
        uow.emit(events.need_raised_event(referred))
    await settle_open_offer(uow, need_id, actor.id, reason, offer_status, placement_id)
    uow.emit(
        events.block_offer_decided_event(
            need, block, number, decision, placement_id, actor.id, reason
        )
    )
    uow.audit(
        actor,
        f"need.block_offer_{decision}",
        "need",
        need_id,
        child=_child(key, need.child_ref),
        reason=reason,
        block_contract_id=block.block_contract_id,
        placement_id=placement_id,
    )
    return OfferDecided(need, block, placement_id)


# --- block contracts ----------------------------------------------------------------------


async def create_block_contract(uow: UnitOfWork, actor: Actor, block: domain.BlockContract) -> None:
    if block.competition_ref:
        clash = await uow.session.exec(
            select(BlockContractRow).where(
                BlockContractRow.competition_ref == block.competition_ref
            )
        )
        if clash.first() is not None:
            raise Conflict("competition_ref", "block_contract_exists_for_competition")
    await save_block(uow.session, block, actor.id)
    uow.emit(events.block_created_event(block))
    await record_block_spend(uow, block)
    uow.audit(actor, "block_contract.created", "block_contract", block.block_contract_id)


async def decide_block_renewal(
    uow: UnitOfWork,
    actor: Actor,
    block_contract_id: str,
    decision: str,
    new_term_end: date | None,
    reason: str,
) -> domain.BlockContract:
    at = datetime.now(UTC)
    block = await load_block(uow.session, block_contract_id)
    row = await uow.session.get(BlockContractRow, block_contract_id)
    if block is None or row is None:
        raise NotFound("block contract", block_contract_id)
    if row.renewal_decided_for == block.term_end:
        raise Conflict("block_contract_id", f"renewal_already_decided: {row.renewal_decision}")
    if decision == "renew":
        if new_term_end is None:
            raise DomainError("new_term_end", "required_to_renew")
        after = domain.renew_block(block, new_term_end)
    else:
        if new_term_end is not None:
            raise DomainError("new_term_end", "only_when_renewing")
        after = block
    row.renewal_decision = decision
    row.renewal_decided_for = block.term_end
    row.renewal_decided_by = actor.id
    row.renewal_decided_at = at
    uow.session.add(row)
    await save_block(uow.session, after, actor.id)
    await record_block_spend(uow, after)  # a renewal commits the new term
    uow.emit(events.block_renewal_decided_event(block, decision, new_term_end, actor.id, reason))
    uow.audit(
        actor,
        f"block_contract.renewal_{decision}",
        "block_contract",
        block_contract_id,
        reason=reason,
    )
    return after
