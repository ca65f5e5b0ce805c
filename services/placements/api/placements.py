"""Placement contracts: reads, reviews, uplifts, variations, ending and renewal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import func
from sqlmodel import col, select

from services.placements import clocks, commands, domain, store
from services.placements.api._views import (
    _child,
    _fee_terms_view,
    _may_read,
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
    FeeChangeRow,
    PlacementRow,
    ReviewRow,
    StatusChangeRow,
    UpliftRow,
    VariationRow,
    load_placement,
    uplift_from_row,
    uplift_into_row,
)
from services.placements.policy import ALLOWED
from shared.api_types import ApiDate, Offset
from shared.audit_read import READS, ReadAudit
from shared.contracts import placements_v1
from shared.contracts.common import Role
from shared.contracts.placements_v1 import (
    PlacementStatus,
    UpliftDecision,
)
from shared.errors import Conflict, DomainError, NotFound
from shared.infra_models import OutboxMessage
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
    items = [_placement_summary(r, names) for r in rows]
    await reads.record(actor, "placement", [(r.placement_id, r.child_ref) for r in rows])
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/placements/{placement_id}")
async def get_placement(
    placement_id: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> dict[str, Any]:
    async with runtime.db.session() as session:
        row = await session.get(PlacementRow, placement_id)
        placement = await load_placement(session, placement_id)
        if row is None or placement is None:
            raise NotFound("placement", placement_id)
        _may_read(actor, row.provider_id)
        view = _placement_summary(row, await store.provider_names(session, {row.provider_id}))
        view["fee"] = _fee_terms_view(placement)
        view["fee_history"] = await _history(
            session, FeeChangeRow, placement_id, FeeChangeRow.seq, exclude={"id"}
        )
        view["status_history"] = await _history(
            session,
            StatusChangeRow,
            placement_id,
            StatusChangeRow.seq,
            exclude={"id", "placement_id"},
        )
        view["reviews"] = await _history(
            session, ReviewRow, placement_id, ReviewRow.due_on, exclude={"placement_id"}
        )
        view["uplifts"] = await _history(session, UpliftRow, placement_id, None, exclude=set())
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
    await reads.record(actor, "placement", [(placement_id, row.child_ref)])
    return view


async def _history(
    session: Any, model: Any, placement_id: str, order: Any, *, exclude: set[str]
) -> list[dict[str, Any]]:
    """A placement's rows of one child table, as JSON-ready dicts, in `order`."""
    query = select(model).where(model.placement_id == placement_id)
    if order is not None:
        query = query.order_by(col(order))
    return [r.model_dump(exclude=exclude) for r in (await session.exec(query)).all()]


@router.post("/placements/{placement_id}/reviews/{review_id}/outcome")
async def record_review_outcome(
    placement_id: str,
    review_id: str,
    body: ReviewOutcomeIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        before = await store.placement_or_404(uow.session, placement_id)
        if review_id not in {r.review_id for r in before.reviews}:
            raise NotFound("review", review_id)
        completed_on = body.completed_on or _today()
        after = domain.record_review_outcome(
            before, review_id, body.outcome, completed_on, actor.id, datetime.now(UTC)
        )
        review = after.review(review_id)
        uow.emit(
            placements_v1.PlacementReviewCompleted(
                placement_id=placement_id,
                review_id=review_id,
                child_ref=after.child_ref,
                provider_id=after.provider_id,
                due_on=review.due_on,
                completed_on=completed_on,
                outcome=body.outcome,
                recorded_by=actor.id,
            )
        )
        await commands.record_placement(uow, before, after)
        uow.audit(
            actor,
            "review.outcome",
            "placement",
            placement_id,
            child=_child(runtime, after.child_ref),
            review_id=review_id,
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
        placement = await store.placement_or_404(uow.session, placement_id)
        _may_read(actor, placement.provider_id)
        pending = await uow.session.exec(
            select(UpliftRow).where(
                UpliftRow.placement_id == placement_id, col(UpliftRow.decision).is_(None)
            )
        )
        uplift = domain.request_uplift(
            placement,
            str(uuid.uuid4()),
            body.requested_percent,
            body.effective_from,
            actor.id,
            datetime.now(UTC),
            body.reason,
            others=[uplift_from_row(r) for r in pending.all()],
        )
        uow.session.add(uplift_into_row(uplift))
        uow.emit(
            placements_v1.PlacementContractUpliftRequested(
                placement_id=placement_id,
                uplift_id=uplift.uplift_id,
                provider_id=placement.provider_id,
                requested_percent=uplift.requested_percent,
                cap_percent=uplift.cap_percent,
                above_cap=uplift.above_cap,
                effective_from=uplift.effective_from,
                reason=uplift.reason,
                cumulative_percent=uplift.cumulative_percent,
            )
        )
        uow.audit(
            actor,
            "uplift.requested",
            "placement",
            placement_id,
            child=_child(runtime, placement.child_ref),
            uplift=uplift.uplift_id,
            reason=body.reason,
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
        row = await uow.session.get(UpliftRow, uplift_id)
        if row is None:
            raise NotFound("uplift", uplift_id)
        if row.decision is not None:
            raise Conflict("uplift_id", "uplift_already_decided")
        before = await store.placement_or_404(uow.session, row.placement_id)
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
            )
        )
        await commands.record_placement(uow, before, after)
        uow.audit(
            actor,
            "uplift.decided",
            "placement",
            before.placement_id,
            child=_child(runtime, before.child_ref),
            uplift=uplift_id,
            reason=body.reason,
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
    variation_id = str(uuid.uuid4())
    at = datetime.now(UTC)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        before = await store.placement_or_404(uow.session, placement_id)
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
            placements_v1.PlacementContractVaried(
                placement_id=placement_id,
                provider_id=after.provider_id,
                fee=domain.fee_terms(after, body.effective_from),
                reason=body.reason,
                varied_by=actor.id,
            )
        )
        await commands.record_placement(uow, before, after)
        uow.audit(
            actor,
            "placement.varied",
            "placement",
            placement_id,
            child=_child(runtime, before.child_ref),
            variation=variation_id,
            reason=body.reason,
        )
    return {"variation_id": variation_id, "fee": domain.fee_terms(after, body.effective_from)}


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
        before = await store.placement_or_404(uow.session, placement_id)
        if before.status in (PlacementStatus.ENDED, PlacementStatus.TERMINATED):
            raise Conflict("status", f"already_{before.status.value}")
        if before.status == PlacementStatus.ENDING and not body.terminate:
            raise Conflict("status", "already_ending")
        at = datetime.now(UTC)
        if body.terminate or before.status == PlacementStatus.PENDING:
            after = domain.terminate_placement(before, on, actor.id, at, reason)
        else:
            after = domain.give_notice(before, on, actor.id, at, reason)
        await commands.record_placement(uow, before, after)
        uow.audit(
            actor,
            "placement.end",
            "placement",
            placement_id,
            child=_child(runtime, before.child_ref),
            reason=reason,
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
    at = datetime.now(UTC)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        before = await store.placement_or_404(uow.session, placement_id)
        if body.decision == "renew":
            if body.new_term_end is None:
                raise DomainError("new_term_end", "required_to_renew")
            after = domain.renew_placement(before, body.new_term_end, actor.id, at, body.reason)
            if body.weekly_core_fee is not None:
                after = domain.vary_placement(
                    after,
                    before.term_end + timedelta(days=1),
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
                before, _today(), actor.id, at, f"renewal declined: {body.reason}"
            )
        await commands.record_placement(uow, before, after)
        uow.emit(
            placements_v1.PlacementRenewalDecided(
                placement_id=placement_id,
                child_ref=before.child_ref,
                provider_id=before.provider_id,
                decision=body.decision,
                previous_term_end=before.term_end,
                new_term_end=body.new_term_end,
                weekly_core_fee=body.weekly_core_fee,
                decided_by=actor.id,
                reason=body.reason,
            )
        )
        if body.weekly_core_fee is not None:
            uow.emit(
                placements_v1.PlacementContractVaried(
                    placement_id=placement_id,
                    provider_id=after.provider_id,
                    fee=domain.fee_terms(after, before.term_end + timedelta(days=1)),
                    reason=f"renewal fee: {body.reason}",
                    varied_by=actor.id,
                )
            )
        uow.audit(
            actor,
            f"renewal.{body.decision}",
            "placement",
            placement_id,
            child=_child(runtime, before.child_ref),
            reason=body.reason,
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
