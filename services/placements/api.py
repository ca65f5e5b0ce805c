"""HTTP routes of placements.

Commissioners and admins write; a provider reads its own placements and requests
uplifts on them (token claim ``provider_id``); monitoring officers read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import col, select

from services.placements import activities, domain, handlers
from services.placements.models import (
    BlockContractRow,
    FeeChangeRow,
    NeedRow,
    PlacementRow,
    ProviderNameRow,
    ReviewRow,
    SpendLedgerRow,
    StatusChangeRow,
    UpliftRow,
    VariationRow,
    load_block,
    load_placement,
    save_block,
    uplift_from_row,
    uplift_into_row,
)
from shared.auth import require
from shared.contracts import placements_v1
from shared.contracts.common import Attendance, NeedType, Role
from shared.contracts.placements_v1 import PlacementStatus, ReviewOutcome, UpliftDecision
from shared.errors import Conflict, NotFound
from shared.infra_models import OutboxMessage
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["placements"])

WRITERS = (Role.COMMISSIONER, Role.ADMIN)
READERS = (*WRITERS, Role.MONITORING_OFFICER, Role.PROVIDER)
TOPIC = placements_v1.TOPIC


# --- bodies -------------------------------------------------------------------------------


class SupportItemIn(BaseModel):
    description: str = Field(min_length=1, max_length=200)
    weekly_amount: Decimal


class ReviewOutcomeIn(BaseModel):
    outcome: ReviewOutcome
    completed_on: date | None = None  # default: today


class UpliftIn(BaseModel):
    requested_percent: Decimal
    effective_from: date
    reason: str | None = Field(default=None, max_length=1000)


class UpliftDecisionIn(BaseModel):
    decision: UpliftDecision
    approved_percent: Decimal | None = None
    reason: str | None = Field(default=None, max_length=1000)


class VariationIn(BaseModel):
    effective_from: date
    weekly_core_fee: Decimal | None = None
    additional_support: list[SupportItemIn] | None = None
    reason: str = Field(max_length=1000)


class EndIn(BaseModel):
    """Ending: by the council with notice, by the provider, or at once (terminate)."""

    by: str = Field(default="council", pattern="^(council|provider)$")
    notice_given_on: date | None = None  # default: today
    terminate: bool = False  # end at once instead of running the notice period
    reason: str = Field(min_length=1, max_length=1000)


class BlockContractIn(BaseModel):
    provider_id: str = Field(min_length=1, max_length=64)
    primary_need: NeedType
    attendance: Attendance
    places: int
    term_start: date
    term_end: date
    weekly_fee_per_place: Decimal
    notice_period_weeks: int = 12
    competition_ref: str | None = Field(default=None, max_length=64)


# --- views --------------------------------------------------------------------------------


def _today() -> date:
    return datetime.now(UTC).date()


def _need_view(row: NeedRow) -> dict[str, Any]:
    return row.model_dump(exclude={"source_event_id"})


def _placement_summary(row: PlacementRow, names: dict[str, str]) -> dict[str, Any]:
    view = row.model_dump(exclude={"workflow_started"})
    view["provider_name"] = names.get(row.provider_id)
    return view


def _fee_terms_view(placement: domain.Placement) -> dict[str, Any]:
    return domain.fee_terms(placement, _today()).model_dump(mode="json")


async def _names(session: Any, provider_ids: set[str]) -> dict[str, str]:
    if not provider_ids:
        return {}
    rows = await session.exec(
        select(ProviderNameRow).where(col(ProviderNameRow.provider_id).in_(provider_ids))
    )
    return {r.provider_id: r.name for r in rows.all()}


def _may_read(actor: Actor, provider_id: str) -> None:
    # A provider sees only its own placements; answer 404 so ids are not probed.
    if actor.role == Role.PROVIDER.value and actor.provider_id != provider_id:
        raise NotFound("placement", "of another provider")


# --- needs --------------------------------------------------------------------------------


@router.get("/needs")
async def list_needs(
    status_: str | None = Query(default=None, alias="status"),
    child_ref: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
    _actor: Actor = Depends(require(*WRITERS, Role.MONITORING_OFFICER)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    query = select(NeedRow)
    if status_:
        query = query.where(NeedRow.status == status_)
    if child_ref:
        query = query.where(NeedRow.child_ref == child_ref)
    async with runtime.db.session() as session:
        total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
        rows = await session.exec(
            query.order_by(col(NeedRow.raised_at).desc()).limit(limit).offset(offset)
        )
        items = [_need_view(r) for r in rows.all()]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/needs/{need_id}")
async def get_need(
    need_id: str,
    _actor: Actor = Depends(require(*WRITERS, Role.MONITORING_OFFICER)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with runtime.db.session() as session:
        row = await session.get(NeedRow, need_id)
        if row is None:
            raise NotFound("need", need_id)
        placed = await session.exec(
            select(PlacementRow.placement_id).where(PlacementRow.need_id == need_id)
        )
        view = _need_view(row)
        view["placement_ids"] = list(placed.all())
    return view


# --- placements -----------------------------------------------------------------------------


@router.get("/placements")
async def list_placements(
    provider_id: str | None = None,
    child_ref: str | None = None,
    status_: PlacementStatus | None = Query(default=None, alias="status"),
    review_due_before: date | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
    actor: Actor = Depends(require(*READERS)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    if actor.role == Role.PROVIDER.value:
        provider_id = actor.provider_id  # a provider's own placements only
    query = select(PlacementRow)
    if provider_id:
        query = query.where(PlacementRow.provider_id == provider_id)
    if child_ref:
        query = query.where(PlacementRow.child_ref == child_ref)
    if status_:
        query = query.where(PlacementRow.status == status_.value)
    if review_due_before:
        due = select(ReviewRow.placement_id).where(
            ReviewRow.outcome == None,  # noqa: E711
            col(ReviewRow.due_on) < review_due_before,
        )
        query = query.where(col(PlacementRow.placement_id).in_(due))
    async with runtime.db.session() as session:
        total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
        rows = list(
            (
                await session.exec(
                    query.order_by(col(PlacementRow.start_date), col(PlacementRow.placement_id))
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
        )
        names = await _names(session, {r.provider_id for r in rows})
    items = [_placement_summary(r, names) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/placements/{placement_id}")
async def get_placement(
    placement_id: str,
    actor: Actor = Depends(require(*READERS)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with runtime.db.session() as session:
        row = await session.get(PlacementRow, placement_id)
        placement = await load_placement(session, placement_id)
        if row is None or placement is None:
            raise NotFound("placement", placement_id)
        _may_read(actor, row.provider_id)
        view = _placement_summary(row, await _names(session, {row.provider_id}))
        view["fee"] = _fee_terms_view(placement)
        view["fee_history"] = [
            r.model_dump(exclude={"id"})
            for r in (
                await session.exec(
                    select(FeeChangeRow)
                    .where(FeeChangeRow.placement_id == placement_id)
                    .order_by(col(FeeChangeRow.seq))
                )
            ).all()
        ]
        view["status_history"] = [
            r.model_dump(exclude={"id", "placement_id"})
            for r in (
                await session.exec(
                    select(StatusChangeRow)
                    .where(StatusChangeRow.placement_id == placement_id)
                    .order_by(col(StatusChangeRow.seq))
                )
            ).all()
        ]
        view["reviews"] = [
            r.model_dump(exclude={"placement_id"})
            for r in (
                await session.exec(
                    select(ReviewRow)
                    .where(ReviewRow.placement_id == placement_id)
                    .order_by(col(ReviewRow.due_on))
                )
            ).all()
        ]
        view["uplifts"] = [
            r.model_dump()
            for r in (
                await session.exec(select(UpliftRow).where(UpliftRow.placement_id == placement_id))
            ).all()
        ]
        view["events"] = [
            {"type": e.event_type, "event_id": e.event_id, "at": e.created_at}
            for e in (
                await session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.key == placement_id)
                    .order_by(col(OutboxMessage.seq))
                )
            ).all()
        ]
    return view


async def _placement_or_404(session: Any, placement_id: str) -> domain.Placement:
    placement = await load_placement(session, placement_id)
    if placement is None:
        raise NotFound("placement", placement_id)
    return placement


@router.post("/placements/{placement_id}/reviews/{review_id}/outcome")
async def record_review_outcome(
    placement_id: str,
    review_id: str,
    body: ReviewOutcomeIn,
    actor: Actor = Depends(require(*WRITERS)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        before = await _placement_or_404(uow.session, placement_id)
        if review_id not in {r.review_id for r in before.reviews}:
            raise NotFound("review", review_id)
        completed_on = body.completed_on or _today()
        after = domain.record_review_outcome(
            before, review_id, body.outcome, completed_on, actor.id, datetime.now(UTC)
        )
        review = after.review(review_id)
        uow.emit(
            TOPIC,
            "placement.review.completed",
            placement_id,
            placements_v1.PlacementReviewCompleted(
                placement_id=placement_id,
                review_id=review_id,
                child_ref=after.child_ref,
                provider_id=after.provider_id,
                due_on=review.due_on,
                completed_on=completed_on,
                outcome=body.outcome,
                recorded_by=actor.id,
            ),
        )
        await handlers.record_placement(uow, before, after)
        uow.audit(actor, "review.outcome", "placement", placement_id, review_id=review_id)
        activities.poke_after_commit(runtime, uow, [placement_id])
    return {"placement_id": placement_id, "review_id": review_id, "status": after.status}


@router.post("/placements/{placement_id}/uplifts", status_code=status.HTTP_201_CREATED)
async def request_uplift(
    placement_id: str,
    body: UpliftIn,
    actor: Actor = Depends(require(*WRITERS, Role.PROVIDER)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        placement = await _placement_or_404(uow.session, placement_id)
        _may_read(actor, placement.provider_id)
        uplift = domain.request_uplift(
            placement,
            str(uuid.uuid4()),
            body.requested_percent,
            body.effective_from,
            actor.id,
            datetime.now(UTC),
            body.reason,
        )
        uow.session.add(uplift_into_row(uplift))
        uow.emit(
            TOPIC,
            "placement.contract.uplift_requested",
            placement_id,
            placements_v1.PlacementContractUpliftRequested(
                placement_id=placement_id,
                uplift_id=uplift.uplift_id,
                provider_id=placement.provider_id,
                requested_percent=uplift.requested_percent,
                cap_percent=uplift.cap_percent,
                above_cap=uplift.above_cap,
                effective_from=uplift.effective_from,
                reason=uplift.reason,
            ),
        )
        uow.audit(actor, "uplift.requested", "placement", placement_id, uplift=uplift.uplift_id)
    return {"uplift_id": uplift.uplift_id, "above_cap": uplift.above_cap}


@router.post("/uplifts/{uplift_id}/decision")
async def decide_uplift(
    uplift_id: str,
    body: UpliftDecisionIn,
    actor: Actor = Depends(require(*WRITERS)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await uow.session.get(UpliftRow, uplift_id)
        if row is None:
            raise NotFound("uplift", uplift_id)
        if row.decision is not None:
            raise Conflict("uplift_id", "uplift_already_decided")
        before = await _placement_or_404(uow.session, row.placement_id)
        after, decided = domain.decide_uplift(
            before,
            uplift_from_row(row),
            body.decision,
            actor.id,
            datetime.now(UTC),
            body.reason,
            body.approved_percent,
        )
        uow.session.add(uplift_into_row(decided, row))
        approved = body.decision == UpliftDecision.APPROVED
        uow.emit(
            TOPIC,
            "placement.contract.uplift_decided",
            before.placement_id,
            placements_v1.PlacementContractUpliftDecided(
                placement_id=before.placement_id,
                uplift_id=uplift_id,
                provider_id=before.provider_id,
                decision=body.decision,
                approved_percent=decided.approved_percent,
                effective_from=decided.effective_from,
                decided_by=actor.id,
                reason=body.reason,
                fee=domain.fee_terms(after, decided.effective_from) if approved else None,
            ),
        )
        await handlers.record_placement(uow, before, after)
        uow.audit(actor, "uplift.decided", "placement", before.placement_id, uplift=uplift_id)
    return {"uplift_id": uplift_id, "decision": body.decision, "fee": _fee_terms_view(after)}


@router.post("/placements/{placement_id}/variations", status_code=status.HTTP_201_CREATED)
async def vary_placement(
    placement_id: str,
    body: VariationIn,
    actor: Actor = Depends(require(*WRITERS)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    support = (
        None
        if body.additional_support is None
        else tuple(
            domain.SupportItem(s.description, s.weekly_amount) for s in body.additional_support
        )
    )
    variation_id = str(uuid.uuid4())
    at = datetime.now(UTC)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        before = await _placement_or_404(uow.session, placement_id)
        after = domain.vary_placement(
            before,
            body.effective_from,
            actor.id,
            at,
            body.reason,
            body.weekly_core_fee,
            support,
            ref=variation_id,
        )
        uow.session.add(
            VariationRow(
                variation_id=variation_id,
                placement_id=placement_id,
                effective_from=body.effective_from,
                weekly_core_fee=body.weekly_core_fee,
                additional_support=None
                if body.additional_support is None
                else [s.model_dump(mode="json") for s in body.additional_support],
                reason=body.reason,
                by=actor.id,
                at=at,
            )
        )
        uow.emit(
            TOPIC,
            "placement.contract.varied",
            placement_id,
            placements_v1.PlacementContractVaried(
                placement_id=placement_id,
                provider_id=after.provider_id,
                fee=domain.fee_terms(after, body.effective_from),
                reason=body.reason,
                varied_by=actor.id,
            ),
        )
        await handlers.record_placement(uow, before, after)
        uow.audit(actor, "placement.varied", "placement", placement_id, variation=variation_id)
    return {"variation_id": variation_id, "fee": domain.fee_terms(after, body.effective_from)}


@router.post("/placements/{placement_id}/end")
async def end_placement(
    placement_id: str,
    body: EndIn,
    actor: Actor = Depends(require(*WRITERS)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    on = body.notice_given_on or _today()
    reason = f"ended by the {body.by}: {body.reason}"
    async with unit_of_work(runtime.db, runtime.source) as uow:
        before = await _placement_or_404(uow.session, placement_id)
        if before.status in (PlacementStatus.ENDED, PlacementStatus.TERMINATED):
            raise Conflict("status", f"already_{before.status.value}")
        if before.status == PlacementStatus.ENDING and not body.terminate:
            raise Conflict("status", "already_ending")
        at = datetime.now(UTC)
        if body.terminate or before.status == PlacementStatus.PENDING:
            after = domain.terminate_placement(before, on, actor.id, at, reason)
        else:
            after = domain.give_notice(before, on, actor.id, at, reason)
        await handlers.record_placement(uow, before, after)
        uow.audit(actor, "placement.end", "placement", placement_id, reason=reason)
        activities.poke_after_commit(runtime, uow, [placement_id])
    return {"placement_id": placement_id, "status": after.status, "end_date": after.end_date}


# --- block contracts ------------------------------------------------------------------------


def _block_view(block: domain.BlockContract) -> dict[str, Any]:
    return {
        "block_contract_id": block.block_contract_id,
        "provider_id": block.provider_id,
        "primary_need": block.primary_need,
        "attendance": block.attendance,
        "term_start": block.term_start,
        "term_end": block.term_end,
        "weekly_fee_per_place": block.weekly_fee_per_place,
        "notice_period_weeks": block.notice_period_weeks,
        "competition_ref": block.competition_ref,
        "places": block.places,
        "places_filled": block.places_filled,
        "utilisation_percent": domain.utilisation_percent(block),
        "occupants": [
            {"place_number": i + 1, "occupant_ref": ref} for i, ref in enumerate(block.occupants)
        ],
        "renewal_decision_by": domain.block_renewal_decision_date(block),
    }


@router.post("/block-contracts", status_code=status.HTTP_201_CREATED)
async def create_block_contract(
    body: BlockContractIn,
    actor: Actor = Depends(require(*WRITERS)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    block = domain.new_block_contract(
        str(uuid.uuid4()),
        body.provider_id,
        body.primary_need,
        body.attendance,
        body.places,
        body.term_start,
        body.term_end,
        body.weekly_fee_per_place,
        body.notice_period_weeks,
        body.competition_ref,
    )
    async with unit_of_work(runtime.db, runtime.source) as uow:
        if body.competition_ref:
            clash = await uow.session.exec(
                select(BlockContractRow).where(
                    BlockContractRow.competition_ref == body.competition_ref
                )
            )
            if clash.first() is not None:
                raise Conflict("competition_ref", "block_contract_exists_for_competition")
        await save_block(uow.session, block, actor.id)
        uow.emit(
            TOPIC,
            "block_contract.created",
            block.block_contract_id,
            handlers.block_created_event(block),
        )
        uow.audit(actor, "block_contract.created", "block_contract", block.block_contract_id)
        activities.start_block_after_commit(runtime, uow, [block.block_contract_id])
    return _block_view(block)


@router.get("/block-contracts/{block_contract_id}")
async def get_block_contract(
    block_contract_id: str,
    _actor: Actor = Depends(require(*WRITERS, Role.MONITORING_OFFICER)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with runtime.db.session() as session:
        block = await load_block(session, block_contract_id)
    if block is None:
        raise NotFound("block contract", block_contract_id)
    return _block_view(block)


# --- spend ------------------------------------------------------------------------------------


@router.get("/spend")
async def spend(
    financial_year: int = Query(ge=2000, le=2100),
    _actor: Actor = Depends(require(*WRITERS, Role.MONITORING_OFFICER)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    """Committed spend in one financial year (April-March) from the ledger."""
    async with runtime.db.session() as session:
        rows = list(
            (
                await session.exec(
                    select(SpendLedgerRow).where(SpendLedgerRow.financial_year == financial_year)
                )
            ).all()
        )
    by_need: dict[str, Decimal] = {}
    by_provider: dict[str, Decimal] = {}
    counted: dict[str, set[str]] = {}
    on = off = Decimal("0.00")
    for row in rows:
        amount = Decimal(row.amount).quantize(domain.PENNY)
        if amount == 0:
            continue  # a withdrawn commitment
        by_need[row.primary_need] = by_need.get(row.primary_need, Decimal("0.00")) + amount
        by_provider[row.provider_id] = by_provider.get(row.provider_id, Decimal("0.00")) + amount
        counted.setdefault(row.primary_need, set()).add(row.placement_id)
        if row.on_contract:
            on += amount
        else:
            off += amount
    total = on + off
    share = None if total == 0 else (on * 100 / total).quantize(domain.PENNY)
    return {
        "financial_year": financial_year,
        "label": domain.financial_year_label(financial_year),
        "total": total,
        "on_contract": on,
        "off_contract": off,
        "on_contract_share_percent": share,
        "by_need_type": {
            need: {
                "amount": amount,
                "placements": len(counted[need]),
                "average": (amount / len(counted[need])).quantize(domain.PENNY),
            }
            for need, amount in sorted(by_need.items())
        },
        "by_provider": dict(sorted(by_provider.items())),
    }
