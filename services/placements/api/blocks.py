"""Block contracts: creation, reads with utilisation, renewal decisions."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import func
from sqlmodel import col, select

from services.placements import clocks, commands, domain, store
from services.placements.api._views import (
    _today,
)
from services.placements.api.bodies import (
    BlockContractIn,
    BlockRenewalDecisionIn,
)
from services.placements.api.needs import _offer_view
from services.placements.models import (
    BlockContractRow,
    BlockOfferRow,
    PlacementRow,
    load_block,
    offer_from_row,
)
from services.placements.policy import ALLOWED
from shared.api_types import ApiDate, Offset
from shared.audit_read import READS, ReadAudit
from shared.errors import NotFound
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["placements"])


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
        "weeks_per_year": block.place_weeks,
        "additional_support": [
            {"description": i.description, "weekly_amount": i.weekly_amount} for i in block.support
        ],
        "one_off_charges": [
            {"description": c.description, "amount": c.amount} for c in block.one_off_charges
        ],
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
    actor: Actor = ALLOWED,
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
        weeks_per_year=body.weeks_per_year,
    )
    async with unit_of_work(runtime.db, runtime.source) as uow:
        await commands.create_block_contract(uow, actor, block)
        clocks.start_block_after_commit(runtime, uow, [block.block_contract_id])
    return _block_view(block)


async def _occupancy(
    session: Any, block_ids: set[str]
) -> dict[str, list[tuple[date, date | None]]]:
    """Per block, the days each placement made in it held its place (start, last day)."""
    found: dict[str, list[tuple[date, date | None]]] = {b: [] for b in block_ids}
    if not block_ids:
        return found
    rows = await session.exec(
        select(
            col(PlacementRow.block_contract_id),
            col(PlacementRow.start_date),
            col(PlacementRow.end_date),
        ).where(col(PlacementRow.block_contract_id).in_(block_ids))
    )
    for block_id, start, end in rows.all():
        found[block_id].append((start, end))
    return found


def _utilisation_view(u: domain.Utilisation) -> dict[str, Any]:
    return {
        "from": u.period_start,
        "to": u.period_end,
        "place_days": u.place_days,
        "filled_place_days": u.filled_days,
        "percent": u.percent,
        "average_places_filled": u.average_places_filled,
    }


def _with_utilisation(
    block: domain.BlockContract,
    occupancy: list[tuple[date, date | None]],
    period: tuple[date, date],
) -> dict[str, Any]:
    """The block with its utilisation over the period = filled place-days / place-days
    bought, and the weekly cost of each place actually used."""
    used = domain.block_utilisation(block, occupancy, *period)
    view = _block_view(block)
    view["utilisation"] = _utilisation_view(used)
    view["weekly_fee_per_place_total"] = block.place_fee.total
    view["weekly_cost_per_filled_place"] = domain.weekly_cost_per_filled_place(block, used.percent)
    return view


@router.get("/block-contracts")
async def list_block_contracts(
    provider_id: str | None = Query(default=None, max_length=64),
    from_: ApiDate | None = Query(default=None, alias="from"),
    to: ApiDate | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    """Block contracts (newest term first), each with its utilisation over the period."""
    period = domain.utilisation_period(from_, to, _today())
    query = select(BlockContractRow.block_contract_id)
    if provider_id:
        query = query.where(BlockContractRow.provider_id == provider_id)
    async with runtime.db.session() as session:
        total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
        ids = list(
            (
                await session.exec(
                    query.order_by(
                        col(BlockContractRow.term_start).desc(),
                        col(BlockContractRow.block_contract_id),
                    )
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
        )
        blocks = [b for b in [await load_block(session, i) for i in ids] if b is not None]
        occupancy = await _occupancy(session, set(ids))
        names = await store.provider_names(session, {b.provider_id for b in blocks})
    items = []
    for block in blocks:
        view = _with_utilisation(block, occupancy[block.block_contract_id], period)
        view["provider_name"] = names.get(block.provider_id)
        items.append(view)
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "from": period[0],
        "to": period[1],
    }


@router.get("/block-contracts/{block_contract_id}")
async def get_block_contract(
    block_contract_id: str,
    from_: ApiDate | None = Query(default=None, alias="from"),
    to: ApiDate | None = None,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> dict[str, Any]:
    period = domain.utilisation_period(from_, to, _today())
    async with runtime.db.session() as session:
        block = await load_block(session, block_contract_id)
        row = await session.get(BlockContractRow, block_contract_id)
        if block is None or row is None:
            raise NotFound("block contract", block_contract_id)
        occupancy = (await _occupancy(session, {block_contract_id}))[block_contract_id]
        placed = await session.exec(
            select(PlacementRow)
            .where(PlacementRow.block_contract_id == block_contract_id)
            .order_by(col(PlacementRow.start_date), col(PlacementRow.placement_id))
        )
        # Who fills its places, by placement id only (no child reference: the placement's
        # own page, itself audited, is where a child is named).
        fills = [
            {
                "placement_id": p.placement_id,
                "status": p.status,
                "start_date": p.start_date,
                "end_date": p.end_date,
                "place_number": domain.place_held_by(block, p.placement_id),
            }
            for p in placed.all()
        ]
        offers = await session.exec(
            select(BlockOfferRow)
            .where(BlockOfferRow.block_contract_id == block_contract_id)
            .order_by(col(BlockOfferRow.offered_on).desc(), col(BlockOfferRow.offer_id))
        )
        offer_views = [_offer_view(offer_from_row(o), None, actor) for o in offers.all()]
        names = await store.provider_names(session, {block.provider_id})
    view = _with_utilisation(block, occupancy, period)
    view["provider_name"] = names.get(block.provider_id)
    view["placements"] = fills
    view["offers"] = offer_views
    view["utilisation_by_month"] = [
        _utilisation_view(m) for m in domain.monthly_utilisation(block, occupancy, *period)
    ]
    view["renewal"] = {
        "requested_for": row.renewal_requested_for,
        "decision": row.renewal_decision,
        "decided_for": row.renewal_decided_for,
        "decided_by": row.renewal_decided_by,
        "decided_at": row.renewal_decided_at,
    }
    # Its occupants are needs and placements: children (the ids, not the children's refs).
    await reads.record(actor, "block_contract", [(block_contract_id, None)])
    return view


@router.post("/block-contracts/{block_contract_id}/renewal")
async def decide_block_renewal(
    block_contract_id: str,
    body: BlockRenewalDecisionIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        after = await commands.decide_block_renewal(
            uow, actor, block_contract_id, body.decision, body.new_term_end, body.reason
        )
        clocks.poke_blocks_after_commit(runtime, uow, [block_contract_id])
    view = _block_view(after)
    view["renewal_decision"] = body.decision
    return view
