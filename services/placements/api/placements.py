"""Placement contracts: reads, reviews, uplifts, variations, ending and renewal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy import func
from sqlmodel import col, select

from services.placements import clocks, commands, domain, events, store
from services.placements.api._views import (
    _fee_terms_view,
    _key,
    _placement_summary,
    _today,
)
from services.placements.api.bodies import (
    EndIn,
    RenewalDecisionIn,
    ReviewOutcomeIn,
    UpliftDecisionIn,
    UpliftIn,
    VariationIn,
)
from services.placements.api.needs import _as_held
from services.placements.models import (
    PlacementRow,
    ReviewRow,
)
from services.placements.policy import ALLOWED
from shared.api_types import ApiDate, Offset
from shared.audit_read import READS, ReadAudit
from shared.contracts.common import Role
from shared.contracts.placements_v1 import (
    PlacementStatus,
)
from shared.errors import NotFound
from shared.json_body import json_response
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["placements"])


# --- placements -----------------------------------------------------------------------------


@router.get("/placements")
async def list_placements(
    provider_id: str | None = None,
    child_ref: str | None = None,
    status_: PlacementStatus | None = Query(default=None, alias="status"),
    review_due_before: ApiDate | None = None,
    competition_ref: str | None = Query(
        default=None, max_length=64, description="the call-off whose award made it"
    ),
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> dict[str, Any]:
    if actor.role == Role.PROVIDER.value:
        provider_id = actor.provider_id  # a provider's own placements only
    query = select(PlacementRow)
    if provider_id:
        query = query.where(PlacementRow.provider_id == provider_id)
    if competition_ref:
        # The console's call-off page: has the award's placement arrived yet?
        query = query.where(PlacementRow.competition_ref == competition_ref)
    if child_ref:
        query = query.where(col(PlacementRow.child_ref).in_(_as_held(runtime, child_ref)))
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
        names = await store.provider_names(session, {r.provider_id for r in rows})
    items = [_placement_summary(r, names, actor) for r in rows]
    await reads.record(actor, "placement", [(r.placement_id, r.child_ref) for r in rows])
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/placements/{placement_id}", response_model=dict[str, Any])
async def get_placement(
    placement_id: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> Response:
    found = await store.placement_record(runtime.db, placement_id)
    if found is None:
        raise NotFound("placement", placement_id)
    row = found.row
    store.may_read(actor, row.provider_id)
    names = {} if found.provider_name is None else {row.provider_id: found.provider_name}
    view = _placement_summary(row, names, actor)
    view["fee"] = _fee_terms_view(found.placement)
    view["fee_history"] = [r.model_dump(exclude={"id"}) for r in found.fees]
    view["status_history"] = [r.model_dump(exclude={"id", "placement_id"}) for r in found.statuses]
    view["reviews"] = [r.model_dump(exclude={"placement_id"}) for r in found.reviews]
    view["uplifts"] = [r.model_dump() for r in found.uplifts]
    view["events"] = [{"type": t, "event_id": i, "at": at} for t, i, at in found.events]
    await reads.record(actor, "placement", [(placement_id, row.child_ref)])
    return json_response(view)  # the page a person waits on: rendered without a copy


@router.post("/placements/{placement_id}/reviews/{review_id}/outcome")
async def record_review_outcome(
    placement_id: str,
    review_id: str,
    body: ReviewOutcomeIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    completed_on = body.completed_on or _today()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        after = await commands.record_review_outcome(
            uow, actor, _key(runtime), placement_id, review_id, body.outcome, completed_on
        )
        clocks.poke_after_commit(runtime, uow, [placement_id])
    return {"placement_id": placement_id, "review_id": review_id, "status": after.status}


@router.post("/placements/{placement_id}/uplifts", status_code=status.HTTP_201_CREATED)
async def request_uplift(
    placement_id: str,
    body: UpliftIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        uplift = await commands.request_uplift(
            uow,
            actor,
            _key(runtime),
            placement_id,
            body.requested_percent,
            body.effective_from,
            body.reason,
        )
    return {"uplift_id": uplift.uplift_id, "above_cap": uplift.above_cap}


@router.post("/uplifts/{uplift_id}/decision")
async def decide_uplift(
    uplift_id: str,
    body: UpliftDecisionIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        after = await commands.decide_uplift(
            uow, actor, _key(runtime), uplift_id, body.decision, body.approved_percent, body.reason
        )
    return {"uplift_id": uplift_id, "decision": body.decision, "fee": _fee_terms_view(after)}


@router.post("/placements/{placement_id}/variations", status_code=status.HTTP_201_CREATED)
async def vary_placement(
    placement_id: str,
    body: VariationIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    support = (
        None
        if body.additional_support is None
        else tuple(
            domain.SupportItem(s.description, s.weekly_amount) for s in body.additional_support
        )
    )
    async with unit_of_work(runtime.db, runtime.source) as uow:
        variation_id, after = await commands.vary_placement(
            uow,
            actor,
            _key(runtime),
            placement_id,
            body.effective_from,
            body.reason,
            body.weekly_core_fee,
            support,
        )
    return {"variation_id": variation_id, "fee": events.fee_terms(after, body.effective_from)}


@router.post("/placements/{placement_id}/end")
async def end_placement(
    placement_id: str,
    body: EndIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    on = body.notice_given_on or _today()
    reason = f"ended by the {body.by}: {body.reason}"
    async with unit_of_work(runtime.db, runtime.source) as uow:
        after = await commands.end_placement(
            uow, actor, _key(runtime), placement_id, on, reason, body.terminate
        )
        clocks.poke_after_commit(runtime, uow, [placement_id])
    return {"placement_id": placement_id, "status": after.status, "end_date": after.end_date}


@router.post("/placements/{placement_id}/renewal")
async def decide_renewal(
    placement_id: str,
    body: RenewalDecisionIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    decision = commands.RenewalDecision(
        body.decision, body.reason, body.new_term_end, body.weekly_core_fee
    )
    async with unit_of_work(runtime.db, runtime.source) as uow:
        after = await commands.decide_renewal(
            uow, actor, _key(runtime), placement_id, decision, _today()
        )
        clocks.poke_after_commit(runtime, uow, [placement_id])
    return {
        "placement_id": placement_id,
        "decision": body.decision,
        "status": after.status,
        "term_end": after.term_end,
        "end_date": after.end_date,
        "fee": _fee_terms_view(after),
    }
