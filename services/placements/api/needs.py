"""Needs and their block place offers (the commissioner decides; the provider answers)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from sqlalchemy import func
from sqlmodel import col, select

from services.placements import clocks, commands, domain, store
from services.placements.api._views import (
    _key,
    _need_view,
    _today,
)
from services.placements.api.bodies import (
    BlockOfferDecisionIn,
)
from services.placements.models import (
    BlockOfferRow,
    NeedRow,
    PlacementRow,
    need_from_row,
    offer_from_row,
)
from services.placements.policy import ALLOWED
from shared.api_types import Offset, RequestBody
from shared.audit_read import READS, ReadAudit
from shared.contracts.common import Role
from shared.errors import NotFound
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work

router = APIRouter(tags=["placements"])


# --- needs --------------------------------------------------------------------------------


def _as_held(runtime: ServiceRuntime, child_ref: str) -> list[str]:
    """A child reference as rows may hold it: itself, or its pseudonym once the rows'
    retention period ran out (so the council still finds a child's old records, e.g. for
    a subject access request: UK GDPR Art. 15)."""
    return [child_ref, domain.pseudonym(child_ref, runtime.settings.pseudonym_key())]


@router.get("/needs")
async def list_needs(
    status_: str | None = Query(default=None, alias="status"),
    child_ref: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> dict[str, Any]:
    query = select(NeedRow)
    if status_:
        query = query.where(NeedRow.status == status_)
    if child_ref:
        query = query.where(col(NeedRow.child_ref).in_(_as_held(runtime, child_ref)))
    async with runtime.db.session() as session:
        total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
        rows = await session.exec(
            query.order_by(col(NeedRow.raised_at).desc()).limit(limit).offset(offset)
        )
        items = [_need_view(r, actor) for r in rows.all()]
    await reads.record(actor, "need", [(i["need_id"], i["child_ref"]) for i in items])
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/needs/{need_id}")
async def get_need(
    need_id: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> dict[str, Any]:
    async with runtime.db.session() as session:
        row = await session.get(NeedRow, need_id)
        if row is None:
            raise NotFound("need", need_id)
        placed = await session.exec(
            select(PlacementRow.placement_id).where(PlacementRow.need_id == need_id)
        )
        view = _need_view(row, actor)
        view["placement_ids"] = list(placed.all())
    await reads.record(actor, "need", [(need_id, row.child_ref)])
    return view


@router.post("/needs/{need_id}/block-offer/decision")
async def decide_block_offer(
    need_id: str,
    body: BlockOfferDecisionIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    """The commissioner's decision on an offered place, whatever the provider did: to
    record an answer the provider gave another way, or to go to a call-off when the
    provider has not answered by the answer-by date. It closes the provider's offer."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await uow.session.get(NeedRow, need_id)
        if row is None:
            raise NotFound("need", need_id)
        offer = domain.council_offer_decision(body.decision)
        return await _decide_offer(
            uow, runtime, actor, row, body.decision, body.reason, body.start_date, offer
        )


async def _decide_offer(
    uow: UnitOfWork,
    runtime: ServiceRuntime,
    actor: Actor,
    row: NeedRow,
    decision: str,
    reason: str,
    start_date: date | None,
    offer_status: domain.BlockOfferStatus,
) -> dict[str, Any]:
    """Accept (a placement is made in the place) or decline (the place is freed and the
    need goes to procurement for a call-off) a need's offered block place."""
    done = await commands.decide_block_offer(
        uow, actor, _key(runtime), row, decision, reason, start_date, offer_status, _today()
    )
    if done.placement_id is not None:
        clocks.start_after_commit(runtime, uow, [done.placement_id])
    return {
        "need_id": row.need_id,
        "decision": decision,
        "need_status": domain.NeedStatus.PLACED.value
        if done.placement_id
        else domain.NeedStatus.WITH_PROCUREMENT.value,
        "placement_id": done.placement_id,
        "block_contract_id": done.block.block_contract_id,
    }


# --- block place offers (the block's provider answers) ---------------------------------------


class ProviderOfferDecisionIn(RequestBody):
    """The provider accepts the offered place (the placement is made in it, starting on the
    need's required start) or declines it, saying why (the need goes to a call-off)."""

    decision: Literal["accepted", "declined"]
    reason: str | None = Field(default=None, max_length=1000)


def _offer_view(offer: domain.BlockOffer, need: NeedRow | None, actor: Actor) -> dict[str, Any]:
    """An offer with what the provider needs to decide: the need's category, year group
    and start; never the child's reference, date of birth or postcode (data minimisation,
    UK GDPR Art. 5(1)(c)). The council also sees the need id."""
    view: dict[str, Any] = {
        "offer_id": offer.offer_id,
        "block_contract_id": offer.block_contract_id,
        "place_number": offer.place_number,
        "provider_id": offer.provider_id,
        "status": domain.block_offer_state(offer, _today()).value,
        "offered_on": offer.offered_on,
        "respond_by": offer.respond_by,
        "decided_at": offer.decided_at,
        "reason": offer.reason,
        "placement_id": offer.placement_id,
    }
    if need is not None:
        plain = need_from_row(need)
        view["need"] = {
            "primary_need": plain.primary_need.value,
            "secondary_needs": [n.value for n in plain.secondary_needs],
            "attendance": plain.attendance.value,
            "year_group_at_start": plain.year_group_at_start,
            "required_start": plain.required_start,
            "urgent": plain.urgent,
        }
    if actor.role != Role.PROVIDER.value:
        view["need_id"] = offer.need_id
        view["decided_by"] = offer.decided_by
    return view


async def _offer_of(session: Any, offer_id: str, actor: Actor) -> BlockOfferRow:
    row = await session.get(BlockOfferRow, offer_id)
    # Another provider's offer is answered as missing, so ids cannot be probed.
    if row is None or (actor.role == Role.PROVIDER.value and actor.provider_id != row.provider_id):
        raise NotFound("block offer", offer_id)
    return row  # type: ignore[no-any-return]


@router.get("/block-offers")
async def list_block_offers(
    provider_id: str | None = None,
    status_: domain.BlockOfferStatus | None = Query(default=None, alias="status"),
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> dict[str, Any]:
    if actor.role == Role.PROVIDER.value:
        provider_id = actor.provider_id  # a provider's own offers only
    query = select(BlockOfferRow)
    if provider_id:
        query = query.where(BlockOfferRow.provider_id == provider_id)
    if status_ is not None:
        query = store.where_offers_in(query, domain.offers_in_state(status_, _today()))
    async with runtime.db.session() as session:
        total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
        rows = list(
            (
                await session.exec(
                    query.order_by(
                        col(BlockOfferRow.offered_on).desc(), col(BlockOfferRow.offer_id)
                    )
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
        )
        needs = {
            n.need_id: n
            for n in (
                await session.exec(
                    select(NeedRow).where(col(NeedRow.need_id).in_({r.need_id for r in rows}))
                )
            ).all()
        }
    items = [_offer_view(offer_from_row(r), needs.get(r.need_id), actor) for r in rows]
    await reads.record(
        actor, "need", [(n.need_id, n.child_ref) for n in needs.values()], via="block_offer"
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/block-offers/{offer_id}")
async def get_block_offer(
    offer_id: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> dict[str, Any]:
    async with runtime.db.session() as session:
        row = await _offer_of(session, offer_id, actor)
        need = await session.get(NeedRow, row.need_id)
    if need is not None:
        await reads.record(actor, "need", [(need.need_id, need.child_ref)], via="block_offer")
    return _offer_view(offer_from_row(row), need, actor)


@router.post("/block-offers/{offer_id}/decision")
async def decide_block_offer_as_provider(
    offer_id: str,
    body: ProviderOfferDecisionIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    """The block's provider answers its offer, once and by the answer-by date."""
    status_, reason = domain.provider_offer_answer(body.decision, body.reason)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        offer_row = await _offer_of(uow.session, offer_id, actor)
        domain.require_answerable(offer_from_row(offer_row), _today())
        row = await uow.session.get(NeedRow, offer_row.need_id)
        if row is None:
            raise NotFound("need", offer_row.need_id)
        done = await _decide_offer(
            uow,
            runtime,
            actor,
            row,
            body.decision,
            reason,
            None,
            status_,
        )
    return {
        "offer_id": offer_id,
        "decision": body.decision,
        "placement_id": done["placement_id"],
        "block_contract_id": done["block_contract_id"],
    }
