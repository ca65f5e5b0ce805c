"""HTTP routes of placements.

Commissioners and admins write; a provider reads its own placements and requests
uplifts on them (token claim ``provider_id``); monitoring officers read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import Field
from sqlalchemy import func
from sqlmodel import col, select

from services.placements import activities, domain, handlers
from services.placements.models import (
    BlockContractRow,
    BlockOfferRow,
    ChildPlanRow,
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
    need_from_row,
    need_into_row,
    offer_from_row,
    plan_from_row,
    save_block,
    uplift_from_row,
    uplift_into_row,
)
from services.placements.policy import ALLOWED
from shared import clock
from shared.api_types import ApiDate, Offset, RequestBody
from shared.audit_read import READS, ReadAudit
from shared.contracts import placements_v1
from shared.contracts.common import Attendance, NeedType, Role
from shared.contracts.placements_v1 import (
    PlacementSource,
    PlacementStatus,
    ReviewOutcome,
    UpliftDecision,
)
from shared.errors import Conflict, DomainError, NotFound, RulesBroken
from shared.infra_models import OutboxMessage
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work

router = APIRouter(tags=["placements"])

TOPIC = placements_v1.TOPIC


# --- bodies -------------------------------------------------------------------------------


class SupportItemIn(RequestBody):
    description: str = Field(min_length=1, max_length=200)
    weekly_amount: Decimal


class ReviewOutcomeIn(RequestBody):
    outcome: ReviewOutcome
    completed_on: date | None = None  # default: today


class UpliftIn(RequestBody):
    requested_percent: Decimal
    effective_from: date
    reason: str | None = Field(default=None, max_length=1000)


class UpliftDecisionIn(RequestBody):
    decision: UpliftDecision
    approved_percent: Decimal | None = None
    reason: str | None = Field(default=None, max_length=1000)


class VariationIn(RequestBody):
    effective_from: date
    weekly_core_fee: Decimal | None = None
    additional_support: list[SupportItemIn] | None = None
    reason: str = Field(max_length=1000)


class EndIn(RequestBody):
    """Ending: by the council with notice, by the provider, or at once (terminate)."""

    by: str = Field(default="council", pattern="^(council|provider)$")
    notice_given_on: date | None = None  # default: today
    terminate: bool = False  # end at once instead of running the notice period
    reason: str = Field(min_length=1, max_length=1000)


class BlockOfferDecisionIn(RequestBody):
    """Accept the offered block place (a placement is made in it) or decline it (the place
    is freed and the need goes to procurement for a call-off)."""

    decision: Literal["accepted", "declined"]
    reason: str = Field(min_length=1, max_length=1000)
    start_date: date | None = None  # accepted: default the need's required start (or today)


class RenewalDecisionIn(RequestBody):
    """Renew the term (new term end, optionally a new weekly core fee from the new term)
    or decline (the placement ends at its term end)."""

    decision: Literal["renew", "decline"]
    new_term_end: date | None = None
    weekly_core_fee: Decimal | None = None
    reason: str = Field(min_length=1, max_length=1000)


class BlockRenewalDecisionIn(RequestBody):
    """Renew the block (new term end), re-procure it, or let it end at term end."""

    decision: Literal["renew", "reprocure", "end"]
    new_term_end: date | None = None
    reason: str = Field(min_length=1, max_length=1000)


class BlockContractIn(RequestBody):
    provider_id: str = Field(min_length=1, max_length=64)
    primary_need: NeedType
    attendance: Attendance
    places: int
    term_start: date
    term_end: date
    weekly_fee_per_place: Decimal
    notice_period_weeks: int = 12
    competition_ref: str | None = Field(default=None, max_length=64)
    weeks_per_year: int | None = None  # weeks each place is paid for; default by attendance


# --- views --------------------------------------------------------------------------------


def _today() -> date:
    return clock.now().date()  # the wall clock, or the training clock


# What monitoring does not need about a child (UK GDPR Art. 5(1)(c), data minimisation):
# age and health detail beyond the primary need are for commissioning the placement.
NOT_FOR_MONITORING = frozenset({"date_of_birth", "secondary_needs"})


def _need_view(row: NeedRow, actor: Actor) -> dict[str, Any]:
    hidden = {"source_event_id"}
    if actor.role == Role.MONITORING_OFFICER.value:
        hidden |= NOT_FOR_MONITORING
    return row.model_dump(exclude=hidden)


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


def _child(runtime: ServiceRuntime, child_ref: str) -> str:
    """The child's pseudonym, as the audit trail holds it (shared.audit)."""
    return domain.pseudonym(child_ref, runtime.settings.pseudonym_key())


def _may_read(actor: Actor, provider_id: str) -> None:
    # A provider sees only its own placements; answer 404 so ids are not probed.
    if actor.role == Role.PROVIDER.value and actor.provider_id != provider_id:
        raise NotFound("placement", "of another provider")


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
        offer = (
            domain.BlockOfferStatus.ACCEPTED
            if body.decision == "accepted"
            else domain.BlockOfferStatus.WITHDRAWN
        )
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
        placement_id = handlers.derived_id("placement", f"block-offer:{need_id}")
        plan = plan_from_row(await uow.session.get(ChildPlanRow, need.child_ref))
        placed, created, block_after = domain.accept_block_offer(
            need,
            block,
            placement_id,
            _today(),
            actor.id,
            at,
            next_review_due=plan.next_review_due if plan else None,
            start_date=start_date,
        )
        uow.session.add(need_into_row(placed, row))
        await save_block(uow.session, block_after, actor.id)
        uow.emit_raw(
            TOPIC,
            "placement.contract.created",
            placement_id,
            domain.contract_created_event(created),
        )
        await handlers.record_placement(uow, None, created)
        if created.start_date <= _today():
            started = domain.start_placement(
                created, created.start_date, handlers.SERVICE_ACTOR.id, at
            )
            await handlers.record_placement(uow, created, started)
        uow.emit_raw(
            TOPIC,
            "block_contract.place_filled",
            block.block_contract_id,
            domain.block_place_event(block_after, number, placement_id, filled=True),
        )
        activities.start_after_commit(runtime, uow, [placement_id])
    else:
        referred, freed, number = domain.decline_block_offer(need, block, reason)
        uow.session.add(need_into_row(referred, row))
        await save_block(uow.session, freed, actor.id)
        uow.emit_raw(
            TOPIC,
            "block_contract.place_freed",
            block.block_contract_id,
            domain.block_place_event(freed, number, need_id, filled=False),
        )
        uow.emit_raw(TOPIC, "placement.need.raised", need_id, domain.need_raised_event(referred))
    await handlers.settle_open_offer(uow, need_id, actor.id, reason, offer_status, placement_id)
    uow.emit_raw(
        TOPIC,
        "placement.need.block_offer_decided",
        need_id,
        placements_v1.PlacementNeedBlockOfferDecided(
            need_id=need_id,
            child_ref=need.child_ref,
            block_contract_id=block.block_contract_id,
            place_number=number,
            provider_id=block.provider_id,
            decision=decision,
            placement_id=placement_id,
            decided_by=actor.id,
            reason=reason,
        ),
    )
    uow.audit(
        actor,
        f"need.block_offer_{decision}",
        "need",
        need_id,
        child=_child(runtime, need.child_ref),
        reason=reason,
        block_contract_id=block.block_contract_id,
        placement_id=placement_id,
    )
    return {
        "need_id": need_id,
        "decision": decision,
        "need_status": domain.NeedStatus.PLACED.value
        if placement_id
        else domain.NeedStatus.WITH_PROCUREMENT.value,
        "placement_id": placement_id,
        "block_contract_id": block.block_contract_id,
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
    today = _today()
    if status_ == domain.BlockOfferStatus.EXPIRED:
        query = query.where(BlockOfferRow.status == "open", col(BlockOfferRow.respond_by) < today)
    elif status_ == domain.BlockOfferStatus.OPEN:
        query = query.where(BlockOfferRow.status == "open", col(BlockOfferRow.respond_by) >= today)
    elif status_ is not None:
        query = query.where(BlockOfferRow.status == status_.value)
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
    reason = (body.reason or "").strip()
    if body.decision == "declined" and not reason:
        raise DomainError("reason", "required_to_decline")
    async with unit_of_work(runtime.db, runtime.source) as uow:
        offer_row = await _offer_of(uow.session, offer_id, actor)
        domain.require_answerable(offer_from_row(offer_row), _today())
        row = await uow.session.get(NeedRow, offer_row.need_id)
        if row is None:
            raise NotFound("need", offer_row.need_id)
        status_ = (
            domain.BlockOfferStatus.ACCEPTED
            if body.decision == "accepted"
            else domain.BlockOfferStatus.DECLINED
        )
        done = await _decide_offer(
            uow,
            runtime,
            actor,
            row,
            body.decision,
            reason or "accepted by the provider",
            None,
            status_,
        )
    return {
        "offer_id": offer_id,
        "decision": body.decision,
        "placement_id": done["placement_id"],
        "block_contract_id": done["block_contract_id"],
    }


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
        names = await _names(session, {r.provider_id for r in rows})
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
        view = _placement_summary(row, await _names(session, {row.provider_id}))
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
    actor: Actor = ALLOWED,
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
        uow.emit_raw(
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
        uow.audit(
            actor,
            "review.outcome",
            "placement",
            placement_id,
            child=_child(runtime, after.child_ref),
            review_id=review_id,
        )
        activities.poke_after_commit(runtime, uow, [placement_id])
    return {"placement_id": placement_id, "review_id": review_id, "status": after.status}


@router.post("/placements/{placement_id}/uplifts", status_code=status.HTTP_201_CREATED)
async def request_uplift(
    placement_id: str,
    body: UpliftIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        placement = await _placement_or_404(uow.session, placement_id)
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
        uow.emit_raw(
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
                cumulative_percent=uplift.cumulative_percent,
            ),
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
        uow.emit_raw(
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
        uow.emit_raw(
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
        uow.audit(
            actor,
            "placement.end",
            "placement",
            placement_id,
            child=_child(runtime, before.child_ref),
            reason=reason,
        )
        activities.poke_after_commit(runtime, uow, [placement_id])
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
        before = await _placement_or_404(uow.session, placement_id)
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
        await handlers.record_placement(uow, before, after)
        uow.emit_raw(
            TOPIC,
            "placement.renewal.decided",
            placement_id,
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
            ),
        )
        if body.weekly_core_fee is not None:
            uow.emit_raw(
                TOPIC,
                "placement.contract.varied",
                placement_id,
                placements_v1.PlacementContractVaried(
                    placement_id=placement_id,
                    provider_id=after.provider_id,
                    fee=domain.fee_terms(after, before.term_end + timedelta(days=1)),
                    reason=f"renewal fee: {body.reason}",
                    varied_by=actor.id,
                ),
            )
        uow.audit(
            actor,
            f"renewal.{body.decision}",
            "placement",
            placement_id,
            child=_child(runtime, before.child_ref),
            reason=body.reason,
        )
        activities.poke_after_commit(runtime, uow, [placement_id])
    return {
        "placement_id": placement_id,
        "decision": body.decision,
        "status": after.status,
        "term_end": after.term_end,
        "end_date": after.end_date,
        "fee": _fee_terms_view(after),
    }


# --- import of existing placements ------------------------------------------------------------


class PlacementImportItem(RequestBody):
    """One placement the council already holds (often a spot purchase made before the DPS).

    ``end_date`` set: the placement ran (or runs) until that day; a past one is imported as
    ended. ``end_date`` null: open-ended, in force until ``term_end`` (default: the end of
    its current three-year term, counted from the start date)."""

    child_ref: str = Field(min_length=1, max_length=64)
    provider_id: str = Field(min_length=1, max_length=64)
    primary_need: NeedType
    attendance: Attendance
    start_date: date
    end_date: date | None = None
    term_end: date | None = None
    weekly_core_fee: Decimal
    weeks_per_year: int
    notice_period_weeks: int = handlers.DEFAULT_NOTICE_PERIOD_WEEKS
    source: PlacementSource = PlacementSource.SPOT
    next_review_due: date | None = None  # required for a placement still in force
    scheme_ref: str | None = Field(default=None, max_length=64)
    competition_ref: str | None = Field(default=None, max_length=64)
    block_contract_id: str | None = Field(default=None, max_length=64)


class PlacementImportIn(RequestBody):
    """A batch of existing placements, recorded all or nothing. ``import_key`` names the
    batch: sending the same key again returns the first answer and writes nothing."""

    import_key: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")
    placements: list[PlacementImportItem] = Field(min_length=1, max_length=1000)


def _import_term_end(item: PlacementImportItem, today: date) -> date:
    if item.end_date is not None:
        return item.end_date
    if item.term_end is not None:
        return item.term_end
    years = handlers.DEFAULT_TERM_YEARS
    term_end = domain.add_years(item.start_date, years) - timedelta(days=1)
    while term_end < today:  # an open spot placement rolls on term by term
        term_end = domain.add_years(term_end + timedelta(days=1), years) - timedelta(days=1)
    return term_end


def _imported_placement(
    item: PlacementImportItem, placement_id: str, actor: Actor, at: datetime, today: date
) -> list[domain.Placement]:
    """The placement's states from creation to now, through the domain's own rules."""
    if item.end_date is not None and item.term_end is not None and item.term_end != item.end_date:
        raise domain.DomainError(
            "term_end", "differs_from_end_date", "give end_date or term_end, not both"
        )
    still_open = item.end_date is None or item.end_date >= today
    if still_open and item.next_review_due is None:
        raise domain.DomainError(
            "next_review_due", "required_for_open_placement", "a placement in force needs one"
        )
    term_end = _import_term_end(item, today)
    # A closed placement owes no review: its plan date is put past its last day.
    next_review = item.next_review_due or (term_end + timedelta(days=1))
    award = domain.Award(
        child_ref=item.child_ref,
        provider_id=item.provider_id,
        source=item.source,
        primary_need=item.primary_need,
        attendance=item.attendance,
        awarded_on=item.start_date,
        start_date=item.start_date,
        term_end=term_end,
        weekly_core_fee=item.weekly_core_fee,
        weeks_per_year=item.weeks_per_year,
        notice_period_weeks=item.notice_period_weeks,
        next_review_due=next_review,
        scheme_ref=item.scheme_ref,
        competition_ref=item.competition_ref,
        block_contract_id=item.block_contract_id,
    )
    states = [domain.create_placement(award, placement_id, actor.id, at)]
    if item.start_date <= today:
        states.append(domain.start_placement(states[-1], item.start_date, actor.id, at))
        if term_end < today:
            states.append(domain.complete_end(states[-1], today, actor.id, at))
    return states


@router.post("/placements/import", status_code=status.HTTP_201_CREATED)
async def import_placements(
    body: PlacementImportIn,
    response: Response,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    """Record placements made outside this system (spot purchases, earlier awards, block
    places) with the same rules, history, spend ledger and events as any other; each item
    is checked and a 422 names ``placements[i].field``; nothing is written on any error."""
    today = _today()
    at = datetime.now(UTC)
    ids = [
        handlers.derived_id("placement", f"import:{body.import_key}:{i}")
        for i in range(len(body.placements))
    ]
    built: list[list[domain.Placement]] = []
    broken: list[DomainError] = []
    for i, item in enumerate(body.placements):
        try:
            built.append(_imported_placement(item, ids[i], actor, at, today))
        except DomainError as exc:
            broken.append(DomainError(f"placements[{i}].{exc.field}", exc.rule))
    if broken:
        raise RulesBroken(broken)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        held = set(
            (
                await uow.session.exec(
                    select(PlacementRow.placement_id).where(col(PlacementRow.placement_id).in_(ids))
                )
            ).all()
        )
        if held:
            if held != set(ids):
                raise Conflict("import_key", "used_for_a_different_batch")
            response.status_code = status.HTTP_200_OK
            rows = (
                await uow.session.exec(
                    select(PlacementRow).where(col(PlacementRow.placement_id).in_(ids))
                )
            ).all()
            by_id = {r.placement_id: r.status for r in rows}
            return _import_result(body.import_key, [(i, by_id[i]) for i in ids], replayed=True)
        for states in built:
            created = states[0]
            pid = created.placement_id
            uow.emit_raw(
                TOPIC, "placement.contract.created", pid, domain.contract_created_event(created)
            )
            before: domain.Placement | None = None
            for state in states:
                await handlers.record_placement(uow, before, state)
                before = state
            uow.audit(
                actor,
                "placement.imported",
                "placement",
                pid,
                child=_child(runtime, created.child_ref),
                import_key=body.import_key,
            )
        open_ids = [
            s[-1].placement_id
            for s in built
            if s[-1].status not in (PlacementStatus.ENDED, PlacementStatus.TERMINATED)
        ]
        activities.start_after_commit(runtime, uow, open_ids)
    return _import_result(
        body.import_key, [(s[-1].placement_id, s[-1].status.value) for s in built], replayed=False
    )


def _import_result(
    import_key: str, placed: list[tuple[str, str]], *, replayed: bool
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for _, state in placed:
        counts[state] = counts.get(state, 0) + 1
    return {
        "import_key": import_key,
        "replayed": replayed,
        "imported": len(placed),
        "by_status": dict(sorted(counts.items())),
        "placement_ids": [pid for pid, _ in placed],
    }


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
        if body.competition_ref:
            clash = await uow.session.exec(
                select(BlockContractRow).where(
                    BlockContractRow.competition_ref == body.competition_ref
                )
            )
            if clash.first() is not None:
                raise Conflict("competition_ref", "block_contract_exists_for_competition")
        await save_block(uow.session, block, actor.id)
        uow.emit_raw(
            TOPIC,
            "block_contract.created",
            block.block_contract_id,
            handlers.block_created_event(block),
        )
        await handlers.record_block_spend(uow, block)
        uow.audit(actor, "block_contract.created", "block_contract", block.block_contract_id)
        activities.start_block_after_commit(runtime, uow, [block.block_contract_id])
    return _block_view(block)


UTILISATION_DEFAULT_DAYS = 365  # a period not given: the year up to today


def _period(from_: date | None, to: date | None) -> tuple[date, date]:
    end = to or _today()
    start = from_ or end - timedelta(days=UTILISATION_DEFAULT_DAYS - 1)
    if end < start:
        raise DomainError("to", "before_from")
    if (end - start).days > 366 * 10:
        raise DomainError("from", "period_over_ten_years")
    return start, end


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
    period = _period(from_, to)
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
        names = await _names(session, {b.provider_id for b in blocks})
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
    period = _period(from_, to)
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
        names = await _names(session, {block.provider_id})
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
    at = datetime.now(UTC)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        block = await load_block(uow.session, block_contract_id)
        row = await uow.session.get(BlockContractRow, block_contract_id)
        if block is None or row is None:
            raise NotFound("block contract", block_contract_id)
        if row.renewal_decided_for == block.term_end:
            raise Conflict("block_contract_id", f"renewal_already_decided: {row.renewal_decision}")
        if body.decision == "renew":
            if body.new_term_end is None:
                raise DomainError("new_term_end", "required_to_renew")
            after = domain.renew_block(block, body.new_term_end)
        else:
            if body.new_term_end is not None:
                raise DomainError("new_term_end", "only_when_renewing")
            after = block
        row.renewal_decision = body.decision
        row.renewal_decided_for = block.term_end
        row.renewal_decided_by = actor.id
        row.renewal_decided_at = at
        uow.session.add(row)
        await save_block(uow.session, after, actor.id)
        await handlers.record_block_spend(uow, after)  # a renewal commits the new term
        uow.emit_raw(
            TOPIC,
            "block_contract.renewal_decided",
            block_contract_id,
            placements_v1.BlockContractRenewalDecided(
                block_contract_id=block_contract_id,
                provider_id=block.provider_id,
                decision=body.decision,
                previous_term_end=block.term_end,
                new_term_end=body.new_term_end,
                decided_by=actor.id,
                reason=body.reason,
            ),
        )
        uow.audit(
            actor,
            f"block_contract.renewal_{body.decision}",
            "block_contract",
            block_contract_id,
            reason=body.reason,
        )
        activities.poke_blocks_after_commit(runtime, uow, [block_contract_id])
    view = _block_view(after)
    view["renewal_decision"] = body.decision
    return view


# --- spend ------------------------------------------------------------------------------------


@router.get("/spend")
async def spend(
    financial_year: int = Query(ge=2000, le=2100),
    _actor: Actor = ALLOWED,
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
    on = off = unfilled = Decimal("0.00")
    for row in rows:
        amount = Decimal(row.amount).quantize(domain.PENNY)
        if amount == 0:
            continue  # a withdrawn commitment
        by_need[row.primary_need] = by_need.get(row.primary_need, Decimal("0.00")) + amount
        by_provider[row.provider_id] = by_provider.get(row.provider_id, Decimal("0.00")) + amount
        placements = counted.setdefault(row.primary_need, set())
        if row.line == "placement":  # a block's unfilled places are spend, not a placement
            placements.add(row.placement_id)
        else:
            unfilled += amount
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
        "unfilled_block_places": unfilled,
        "by_need_type": {
            need: {
                "amount": amount,
                "placements": len(counted[need]),
                "average": (amount / len(counted[need])).quantize(domain.PENNY)
                if counted[need]
                else None,
            }
            for need, amount in sorted(by_need.items())
        },
        "by_provider": dict(sorted(by_provider.items())),
    }
