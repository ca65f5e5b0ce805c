"""Use cases of inbound events: EHC plans (needs, review dates, cessation), procurement's
awards (placements and block contracts) and provider names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from services.placements import domain, events, store
from services.placements.commands._core import (
    DEFAULT_NOTICE_PERIOD_WEEKS,
    DEFAULT_TERM_YEARS,
    SERVICE_ACTOR,
    derived_id,
    place_need,
    record_block_spend,
    record_placement,
    settle_open_offer,
    today,
)
from services.placements.models import (
    NeedRow,
    PlacementRow,
    ProviderNameRow,
    blocks_for,
    load_block,
    load_plans,
    need_from_row,
    need_into_row,
    new_need_row,
    offer_into_row,
    save_block,
    save_plans,
)
from shared.contracts import ehc_plans_v1, procurement_v1
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import PlacementSource
from shared.db import one_of
from shared.envelope import Envelope
from shared.logging import get_logger
from shared.unit_of_work import UnitOfWork

log = get_logger(__name__)

# ==========================================================================================
# ehc.plans.v1
# ==========================================================================================


@dataclass(frozen=True)
class PlanApplied:
    """A plan change plus the review date held before it (None: no date was known, so
    the child can have no placement reviews to move)."""

    change: domain.PlanChange
    previous_review: date | None

    @property
    def next_review_moved(self) -> bool:
        return self.change.next_review_moved

    @property
    def ceased(self) -> bool:
        return self.change.ceased

    @property
    def plan(self) -> domain.ChildPlan:
        return self.change.plan


@dataclass
class PlanBook:
    """The child plans one run of EHC events reads and writes: read with one query
    before the run, changed in memory event by event, written with one upsert after it.
    It also knows which of the run's children have an open placement (one query), so
    that the reviews of placements are looked up only for them: most children with a
    plan have no placement commissioned here (EHC events create no placement)."""

    held: dict[str, domain.ChildPlan | None]
    changed: set[str]
    placed: set[str]

    @classmethod
    async def open(cls, uow: UnitOfWork, child_refs: set[str]) -> PlanBook:
        found = await load_plans(uow.session, child_refs)
        placed = await _children_with_open_placements(uow, child_refs)
        return cls({ref: found.get(ref) for ref in child_refs}, set(), placed)

    def apply(self, envelope: Envelope, payload: ehc_plans_v1.InboundEvent) -> PlanApplied:
        before = self.held[payload.child_ref]
        change = domain.apply_plan_event(before, payload, envelope.time)
        if change.stale:
            log.info("ehc.stale_fields_ignored", fields=change.stale)  # event id is bound
        self.held[payload.child_ref] = change.plan
        self.changed.add(payload.child_ref)
        return PlanApplied(change, before.next_review_due if before else None)

    async def save(self, uow: UnitOfWork) -> None:
        await save_plans(uow.session, (p for r, p in self.held.items() if r in self.changed and p))
        self.changed.clear()


async def _children_with_open_placements(uow: UnitOfWork, child_refs: set[str]) -> set[str]:
    """Which of these children have a placement not yet closed, with one query
    (``store.children_with_open_placements``, with one array parameter on PostgreSQL)."""
    if not child_refs:
        return set()
    closed = [s.value for s in domain.CLOSED_STATUSES]
    rows = await uow.session.exec(
        select(PlacementRow.child_ref).where(
            one_of(uow.session, col(PlacementRow.child_ref), child_refs),
            col(PlacementRow.status).not_in(closed),
        )
    )
    return set(rows.all())


async def _realign_reviews(
    uow: UnitOfWork,
    child_ref: str,
    next_review_due: date,
    reviewed_on: date | None,
    statutory_latest: date | None = None,
) -> list[str]:
    moved: list[str] = []
    for placement in await store.open_placements_of(uow.session, child_ref):
        after = domain.align_reviews_to_plan(
            placement, next_review_due, reviewed_on, statutory_latest
        )
        if after != placement:
            await record_placement(uow, placement, after)
            moved.append(placement.placement_id)
    return moved


async def realign_after_plan_change(
    uow: UnitOfWork, change: PlanApplied, child_ref: str
) -> list[str]:
    """An issued or amended plan moved the next review: move the placements' reviews."""
    # A child with no review date before has no placement reviews to realign (most
    # issued events are such: skipping the lookup keeps ingest fast).
    due = change.plan.next_review_due
    if change.previous_review is None or not change.next_review_moved or due is None:
        return []
    latest = change.plan.review_statutory_latest  # flags a date beyond s.44's
    return await _realign_reviews(uow, child_ref, due, None, latest)


async def realign_after_review(
    uow: UnitOfWork, change: PlanApplied, payload: ehc_plans_v1.EhcPlanReviewed
) -> list[str]:
    """The plan was reviewed and its next review moved: move the placements' reviews."""
    if change.previous_review is None or not change.next_review_moved:
        return []
    return await _realign_reviews(
        uow, payload.child_ref, payload.next_review_due, payload.reviewed_on
    )


async def end_for_ceased_plan(
    uow: UnitOfWork,
    change: PlanApplied,
    payload: ehc_plans_v1.EhcPlanCeased,
    placed: bool,
    key: bytes,
) -> list[str]:
    """A ceased plan withdraws the child's needs and ends its placements; returns the ids
    of the placements ended."""
    if not change.ceased:
        return []  # already ceased, or an older cease arriving late
    await _withdraw_needs(uow, payload.child_ref, payload.ceased_on, key)
    placements = await store.open_placements_of(uow.session, payload.child_ref) if placed else []
    by_id = {p.placement_id: p for p in placements}
    at = datetime.now(UTC)
    ended = domain.end_placements_for_ceased_plan(
        placements, payload.ceased_on, SERVICE_ACTOR.id, at
    )
    for after in ended:
        await record_placement(uow, by_id[after.placement_id], after)
        uow.audit(
            SERVICE_ACTOR,
            "placement.ended_for_cease",
            "placement",
            after.placement_id,
            child=domain.pseudonym(payload.child_ref, key),
        )
    return [p.placement_id for p in ended]


async def _withdraw_needs(uow: UnitOfWork, child_ref: str, ceased_on: date, key: bytes) -> None:
    rows = await uow.session.exec(select(NeedRow).where(NeedRow.child_ref == child_ref))
    for row in rows.all():
        need = need_from_row(row)
        if need.status in (domain.NeedStatus.PLACED, domain.NeedStatus.WITHDRAWN):
            continue
        withdrawn = domain.withdraw_need(need, f"EHC plan ceased on {ceased_on.isoformat()}")
        uow.session.add(need_into_row(withdrawn, row))
        await settle_open_offer(uow, need.need_id, SERVICE_ACTOR.id, "EHC plan ceased")
        if need.block_contract_id and need.place_number:
            block = await load_block(uow.session, need.block_contract_id)
            if block is not None and domain.place_held_by(block, need.need_id):
                freed, occupant = domain.free_place(block, need.place_number)
                await save_block(uow.session, freed, SERVICE_ACTOR.id)
                uow.emit(events.block_place_event(freed, need.place_number, occupant, filled=False))
        uow.audit(
            SERVICE_ACTOR,
            "need.withdrawn",
            "need",
            need.need_id,
            child=domain.pseudonym(child_ref, key),
            reason="plan ceased",
        )


async def raise_placement_need(
    uow: UnitOfWork, envelope: Envelope, payload: ehc_plans_v1.PlacementRequested, key: bytes
) -> domain.PlacementNeed:
    """A need from the request: offer a free block place first, else ask procurement.
    `key`: the child pseudonym key (the audit row names the child by pseudonym)."""
    need_id = derived_id("need", envelope.id)
    existing = await uow.session.get(NeedRow, need_id)
    if existing is not None:  # the same request re-sent under a new inbox entry
        return need_from_row(existing)
    need = domain.raise_need(payload, need_id, envelope.time)
    blocks = await blocks_for(uow.session, need.primary_need.value, need.attendance.value)
    decision = domain.choose_block_place(need, blocks)
    need = domain.apply_block_decision(need, decision)
    uow.session.add(new_need_row(need, envelope.id))
    if decision.offered:
        await _offer_block_place(uow, need, decision, blocks)
    else:
        uow.emit(events.need_raised_event(need))
    uow.audit(
        SERVICE_ACTOR,
        "need.raised",
        "need",
        need_id,
        child=domain.pseudonym(need.child_ref, key),
        decision=decision.reason,
    )
    return need


async def _offer_block_place(
    uow: UnitOfWork,
    need: domain.PlacementNeed,
    decision: domain.BlockPlaceDecision,
    blocks: Iterable[domain.BlockContract],
) -> None:
    block = next(b for b in blocks if b.block_contract_id == decision.block_contract_id)
    filled, number = domain.fill_place(block, need.need_id, decision.place_number)
    await save_block(uow.session, filled, SERVICE_ACTOR.id)
    # The block's provider answers the offer (portal), by its answer-by date.
    offer = domain.new_block_offer(derived_id("block-offer", need.need_id), need, decision, today())
    uow.session.add(offer_into_row(offer))
    uow.emit(events.block_offer_event(need, decision))
    uow.emit(events.block_place_event(filled, number, need.need_id, filled=True))


# ==========================================================================================
# procurement.v1
# ==========================================================================================


def award_support(
    award: procurement_v1.CompetitionAwarded,
) -> tuple[tuple[domain.SupportItem, ...], tuple[domain.OneOffCharge, ...]]:
    """Every priced support item of the winning bid: weekly items and one-off charges."""
    items = ((s.description, s.amount, s.basis) for s in award.additional_support)
    return domain.split_support(items, award.weeks_per_year)


def award_to_domain(
    award: procurement_v1.CompetitionAwarded, need: domain.PlacementNeed, next_review: date
) -> domain.Award:
    term_end = award.end_date or (
        domain.add_years(award.start_date, DEFAULT_TERM_YEARS) - timedelta(days=1)
    )
    support, one_off = award_support(award)
    return domain.Award(
        child_ref=need.child_ref,
        provider_id=award.provider_id,
        source=PlacementSource.DPS_AWARD,
        primary_need=need.primary_need,
        attendance=need.attendance,
        awarded_on=award.approved_at.astimezone(UTC).date(),
        start_date=award.start_date,
        term_end=term_end,
        weekly_core_fee=award.weekly_core_fee,
        weeks_per_year=award.weeks_per_year,
        notice_period_weeks=DEFAULT_NOTICE_PERIOD_WEEKS,
        next_review_due=next_review,
        additional_support=support,
        need_id=need.need_id,
        scheme_ref=award.scheme_id,
        competition_ref=award.competition_id,
        one_off_charges=one_off,
        # The call-off's legal basis follows its scheme's regime (DPS when not said).
        basis=domain.basis_for_regime(award.regime),
    )


async def create_placement_from_award(
    uow: UnitOfWork, envelope: Envelope, award: procurement_v1.CompetitionAwarded, key: bytes
) -> domain.Placement | None:
    """IPA from an individual award; None if this competition already made one."""
    taken = await uow.session.exec(
        select(PlacementRow.placement_id).where(
            PlacementRow.competition_ref == award.competition_id
        )
    )
    if taken.first() is not None:
        return None  # a re-published award (new event id) changes nothing
    return await place_need(
        uow,
        award.need_ref,
        lambda need, next_review: award_to_domain(award, need, next_review),
        derived_id("placement", award.competition_id),
        award.approved_by,
        key,
        award=envelope.id,
    )


async def create_block_from_award(
    uow: UnitOfWork, award: procurement_v1.CompetitionAwarded
) -> domain.BlockContract | None:
    block_id = derived_id("block", award.competition_id)
    if await load_block(uow.session, block_id) is not None:
        return None
    category = await _category_of(uow, award)
    term_end = award.end_date or (
        domain.add_years(award.start_date, DEFAULT_TERM_YEARS) - timedelta(days=1)
    )
    block = domain.new_block_contract(
        block_id,
        award.provider_id,
        category[0],
        category[1],
        award.places,
        award.start_date,
        term_end,
        award.weekly_core_fee,
        DEFAULT_NOTICE_PERIOD_WEEKS,
        award.competition_id,
        **block_terms(award),
    )
    await save_block(uow.session, block, award.approved_by)
    uow.emit(events.block_created_event(block))
    await record_block_spend(uow, block)
    return block


def block_terms(award: procurement_v1.CompetitionAwarded) -> dict[str, Any]:
    """Every priced item of the winning bid and its weeks, for ``new_block_contract``."""
    support, one_off = award_support(award)
    return {"support": support, "one_off_charges": one_off, "weeks_per_year": award.weeks_per_year}


async def _category_of(
    uow: UnitOfWork, award: procurement_v1.CompetitionAwarded
) -> tuple[NeedType, Attendance]:
    # A block award names its need when it was bought for one; else the category code
    # is "<NEED>-<attendance>" by the schemes' convention.
    if award.need_ref:
        row = await uow.session.get(NeedRow, award.need_ref)
        if row is not None:
            need = need_from_row(row)
            return need.primary_need, need.attendance
    need_code, _, attendance = award.category_code.partition("-")
    try:
        return NeedType(need_code.upper()), Attendance(attendance.lower())
    except ValueError as exc:
        raise domain.DomainError(
            "category_code",
            "unknown_category",
            f"cannot tell need/attendance of {award.category_code!r}",
        ) from exc


# ==========================================================================================
# providers.v1 (display names, and the URN and type the SEN2 return reports)
# ==========================================================================================


async def remember_provider_name(
    uow: UnitOfWork,
    provider_id: str,
    name: str,
    urn: int | None = None,
    provider_type: str | None = None,
) -> None:
    row = await uow.session.get(ProviderNameRow, provider_id)
    row = row or ProviderNameRow(provider_id=provider_id, name=name)
    row.name = name
    if urn is not None:
        row.urn = urn
    if provider_type is not None:
        row.provider_type = provider_type
    uow.session.add(row)
