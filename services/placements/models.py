"""Tables of the placements service (its own database only), and the mapping between
rows and the pure domain values of ``domain.py``.

Searchable facts are columns; histories (fees, status, reviews) are rows of their own so
"who changed what, when and why" is queryable. Children are held by the council's
pseudonymous reference only: no table has a name column.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Numeric, String
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.placements import domain
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import (
    PlacementSource,
    PlacementStatus,
    ReviewOutcome,
    UpliftDecision,
)
from shared.db import upsert
from shared.infra_models import AwareDateTime, utcnow


class PlacementsModel(SQLModel, registry=registry()):
    """Base of placements tables: a registry of their own, apart from other services."""


def _money(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(Numeric(14, 2), nullable=nullable))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


# --- EHC plan records -----------------------------------------------------------------


class ChildPlanRow(PlacementsModel, table=True):
    """What commissioning holds about one child's EHC plan; ``field_times`` holds, per
    field, the council's event time of the value held (out-of-order protection)."""

    __tablename__ = "child_plan"

    child_ref: str = Field(primary_key=True, max_length=40)
    la_code: str | None = Field(default=None, max_length=3)
    date_of_birth: date | None = None
    year_group: int | None = None
    primary_need: str | None = Field(default=None, max_length=10)
    secondary_needs: list[str] = _json(list)
    attendance: str | None = Field(default=None, max_length=20)
    postcode_district: str | None = Field(default=None, max_length=4)
    issued_on: date | None = None
    next_review_due: date | None = None
    last_reviewed_on: date | None = None
    ceased_on: date | None = None
    field_times: dict[str, str] = _json(dict)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(AwareDateTime()))
    # Set when the plan's child data was pseudonymised (ceased plans, after retention).
    pseudonymised_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))


# --- needs ------------------------------------------------------------------------------


class NeedRow(PlacementsModel, table=True):
    """A panel-agreed need for an NMISS placement."""

    __tablename__ = "placement_need"

    need_id: str = Field(primary_key=True, max_length=36)
    source_event_id: str = Field(max_length=100, unique=True)
    child_ref: str = Field(max_length=40, index=True)
    la_code: str = Field(max_length=3)
    primary_need: str = Field(max_length=10, index=True)
    secondary_needs: list[str] = _json(list)
    date_of_birth: date | None = None
    year_group: int | None = None
    attendance: str = Field(max_length=20)
    # None once pseudonymised (services/placements/retention.py).
    postcode_district: str | None = Field(default=None, max_length=4)
    required_start: date
    max_distance_km: float | None = None
    urgent: bool = False
    next_review_due: date
    raised_at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))
    status: str = Field(max_length=30, index=True)
    status_reason: str | None = Field(default=None, max_length=500)
    block_contract_id: str | None = Field(default=None, max_length=36)
    place_number: int | None = None
    phase_transfer_deadline: date | None = None
    # When the need was placed or withdrawn: the retention clock of its child data.
    closed_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))
    pseudonymised_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))


# --- placements (IPA) ---------------------------------------------------------------------


class PlacementRow(PlacementsModel, table=True):
    """An individual placement agreement (its histories are in the tables below)."""

    __tablename__ = "placement"

    placement_id: str = Field(primary_key=True, max_length=36)
    child_ref: str = Field(max_length=40, index=True)
    provider_id: str = Field(max_length=64, index=True)
    source: str = Field(max_length=20)
    primary_need: str = Field(max_length=10)
    attendance: str = Field(max_length=20)
    awarded_on: date
    start_date: date
    term_end: date
    weeks_per_year: int
    notice_period_weeks: int
    status: str = Field(max_length=20, index=True)
    need_id: str | None = Field(default=None, max_length=36, index=True)
    scheme_ref: str | None = Field(default=None, max_length=64)
    competition_ref: str | None = Field(default=None, max_length=64, unique=True)
    block_contract_id: str | None = Field(default=None, max_length=36)
    started_on: date | None = None
    notice_given_on: date | None = None
    end_date: date | None = None
    # The term end a renewal decision was requested for (the workflow asks once per term).
    renewal_requested_for: date | None = None
    # The term end a renewal-decision-overdue escalation was raised for (once per term).
    renewal_overdue_sent_for: date | None = None
    # Set once PlacementLifecycleWorkflow has been started for it (the sweep looks).
    workflow_started: bool = Field(default=False, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(AwareDateTime()))
    # Set when child_ref was replaced by its pseudonym (ended placements, after retention).
    pseudonymised_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))


class FeeChangeRow(PlacementsModel, table=True):
    """One fee-history entry: award, variation or uplift, effective from a date."""

    __tablename__ = "placement_fee_change"

    id: int | None = Field(default=None, primary_key=True)
    placement_id: str = Field(max_length=36, index=True)
    seq: int
    effective_from: date
    kind: str = Field(max_length=20)
    by: str = Field(max_length=200)
    at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))
    reason: str = Field(max_length=1000)
    core: Decimal | None = _money(nullable=True)
    support: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    uplift_percent: Decimal | None = Field(default=None, sa_column=Column(Numeric(7, 4)))
    ref: str | None = Field(default=None, max_length=64)
    # One-off charges (paid once on effective_from): [{"description", "amount"}].
    one_off: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))


class StatusChangeRow(PlacementsModel, table=True):
    """One status transition of a placement: who, when, why."""

    __tablename__ = "placement_status_change"

    id: int | None = Field(default=None, primary_key=True)
    placement_id: str = Field(max_length=36, index=True)
    seq: int
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))
    by: str = Field(max_length=200)
    reason: str = Field(max_length=1000)


class ReviewRow(PlacementsModel, table=True):
    """An annual placement review; reminders record which were sent (weeks before)."""

    __tablename__ = "placement_review"

    review_id: str = Field(primary_key=True, max_length=64)
    placement_id: str = Field(max_length=36, index=True)
    due_on: date = Field(index=True)
    completed_on: date | None = None
    outcome: str | None = Field(default=None, max_length=20)
    recorded_by: str | None = Field(default=None, max_length=200)
    reminders_sent: list[int] = _json(list)
    overdue_sent: bool = False
    # Latest lawful due date (12 months from the review actually held, CFA 2014 s.44);
    # a due date after it is the council's choice, kept but flagged.
    statutory_latest: date | None = None


class UpliftRow(PlacementsModel, table=True):
    """A provider's fee uplift request and the commissioner's decision."""

    __tablename__ = "placement_uplift"

    uplift_id: str = Field(primary_key=True, max_length=36)
    placement_id: str = Field(max_length=36, index=True)
    requested_percent: Decimal = Field(sa_column=Column(Numeric(7, 4), nullable=False))
    cap_percent: Decimal = Field(sa_column=Column(Numeric(7, 4), nullable=False))
    effective_from: date
    requested_by: str = Field(max_length=200)
    requested_at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))
    reason: str | None = Field(default=None, max_length=1000)
    decision: str | None = Field(default=None, max_length=20)
    approved_percent: Decimal | None = Field(default=None, sa_column=Column(Numeric(7, 4)))
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))
    decision_reason: str | None = Field(default=None, max_length=1000)


class VariationRow(PlacementsModel, table=True):
    """A variation as requested (its fee effect is a FeeChangeRow with ref = variation_id)."""

    __tablename__ = "placement_variation"

    variation_id: str = Field(primary_key=True, max_length=36)
    placement_id: str = Field(max_length=36, index=True)
    effective_from: date
    weekly_core_fee: Decimal | None = _money(nullable=True)
    additional_support: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    reason: str = Field(max_length=1000)
    by: str = Field(max_length=200)
    at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))


# --- block contracts ----------------------------------------------------------------------


class BlockContractRow(PlacementsModel, table=True):
    """N places bought for a term from one provider in one category."""

    __tablename__ = "block_contract"

    block_contract_id: str = Field(primary_key=True, max_length=36)
    provider_id: str = Field(max_length=64, index=True)
    primary_need: str = Field(max_length=10)
    attendance: str = Field(max_length=20)
    term_start: date
    term_end: date
    weekly_fee_per_place: Decimal = _money()
    notice_period_weeks: int
    competition_ref: str | None = Field(default=None, max_length=64, unique=True)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(AwareDateTime()))
    # The term end a renewal decision was requested for (asked once per term).
    renewal_requested_for: date | None = None
    # Set once BlockContractRenewalWorkflow has been started for it (the sweep looks).
    workflow_started: bool = Field(default=False, index=True)
    # The latest renewal decision (renew / reprocure / end), for which term end, who, when.
    renewal_decision: str | None = Field(default=None, max_length=20)
    renewal_decided_for: date | None = None
    renewal_decided_by: str | None = Field(default=None, max_length=200)
    renewal_decided_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))
    # Every priced item of the winning bid, per place: weekly support and one-off charges.
    support: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    one_off: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    weeks_per_year: int | None = None  # None on older rows: from the attendance


class BlockPlaceRow(PlacementsModel, table=True):
    """One place of a block contract and who holds it (a need or placement id)."""

    __tablename__ = "block_place"

    block_contract_id: str = Field(primary_key=True, max_length=36)
    place_number: int = Field(primary_key=True)
    occupant_ref: str | None = Field(default=None, max_length=36)


class BlockOfferRow(PlacementsModel, table=True):
    """A block place offered to the block's provider for one need, and its answer."""

    __tablename__ = "block_offer"

    offer_id: str = Field(primary_key=True, max_length=36)
    need_id: str = Field(max_length=36, index=True)
    block_contract_id: str = Field(max_length=36, index=True)
    place_number: int
    provider_id: str = Field(max_length=64, index=True)
    status: str = Field(max_length=20, index=True)
    offered_on: date
    respond_by: date
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))
    reason: str | None = Field(default=None, max_length=1000)
    placement_id: str | None = Field(default=None, max_length=36)


# --- spend ledger and provider names -------------------------------------------------------


class SpendLedgerRow(PlacementsModel, table=True):
    """Committed cost of one placement in one financial year (a snapshot, replaced)."""

    __tablename__ = "spend_ledger"

    placement_id: str = Field(primary_key=True, max_length=36)
    financial_year: int = Field(primary_key=True)
    provider_id: str = Field(max_length=64, index=True)
    primary_need: str = Field(max_length=10)
    source: str = Field(max_length=20)
    on_contract: bool
    amount: Decimal = _money()
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(AwareDateTime()))
    # "placement", or "block_unfilled_places" (placement_id holds the block contract id).
    line: str = Field(default="placement", max_length=30)
    # Part of ``amount`` that corrects closed financial years (back-dated changes).
    adjustment: Decimal | None = _money(nullable=True)


class ProviderNameRow(PlacementsModel, table=True):
    """Provider display names learnt from providers.v1 (for display only)."""

    __tablename__ = "provider_name"

    provider_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(sa_column=Column(String(200), nullable=False))


# ==========================================================================================
# Rows <-> domain values
# ==========================================================================================


def plan_from_row(row: ChildPlanRow | None) -> domain.ChildPlan | None:
    return None if row is None else plan_from_columns(row.model_dump())


def plan_from_columns(row: Mapping[Any, Any]) -> domain.ChildPlan:
    return domain.ChildPlan(
        child_ref=row["child_ref"],
        la_code=row["la_code"],
        date_of_birth=row["date_of_birth"],
        year_group=row["year_group"],
        primary_need=NeedType(row["primary_need"]) if row["primary_need"] else None,
        secondary_needs=tuple(NeedType(n) for n in row["secondary_needs"]),
        attendance=Attendance(row["attendance"]) if row["attendance"] else None,
        postcode_district=row["postcode_district"],
        issued_on=row["issued_on"],
        next_review_due=row["next_review_due"],
        last_reviewed_on=row["last_reviewed_on"],
        ceased_on=row["ceased_on"],
        field_times={k: datetime.fromisoformat(v) for k, v in row["field_times"].items()},
    )


def plan_columns(plan: domain.ChildPlan, updated_at: datetime) -> dict[str, Any]:
    return {
        "child_ref": plan.child_ref,
        "la_code": plan.la_code,
        "date_of_birth": plan.date_of_birth,
        "year_group": plan.year_group,
        "primary_need": plan.primary_need.value if plan.primary_need else None,
        "secondary_needs": [n.value for n in plan.secondary_needs],
        "attendance": plan.attendance.value if plan.attendance else None,
        "postcode_district": plan.postcode_district,
        "issued_on": plan.issued_on,
        "next_review_due": plan.next_review_due,
        "last_reviewed_on": plan.last_reviewed_on,
        "ceased_on": plan.ceased_on,
        "field_times": _iso_times(plan.field_times),
        "updated_at": updated_at,
    }


def _iso_times(times: Mapping[str, datetime]) -> dict[str, str]:
    # Most fields of a plan were set by the same event: format each distinct time once.
    formatted: dict[datetime, str] = {}
    return {k: formatted.get(v) or formatted.setdefault(v, v.isoformat()) for k, v in times.items()}


# Child plans are read and written with Core statements, not ORM rows: a council's bulk
# load of EHC plans is the hottest path of the service, and ORM rows cost more than SQL.
_PLANS = ChildPlanRow.__table__  # type: ignore[attr-defined]


async def load_plans(
    session: AsyncSession, child_refs: Collection[str]
) -> dict[str, domain.ChildPlan]:
    """The plans held of these children, with one query (absent children are left out)."""
    if not child_refs:
        return {}
    result = await session.execute(_PLANS.select().where(_PLANS.c.child_ref.in_(list(child_refs))))
    return {row["child_ref"]: plan_from_columns(row) for row in result.mappings()}


async def save_plans(session: AsyncSession, plans: Iterable[domain.ChildPlan]) -> None:
    now = utcnow()
    await upsert(session, _PLANS, [plan_columns(plan, now) for plan in plans], "child_ref")


def need_from_row(row: NeedRow) -> domain.PlacementNeed:
    return domain.PlacementNeed(
        need_id=row.need_id,
        child_ref=row.child_ref,
        la_code=row.la_code,
        primary_need=NeedType(row.primary_need),
        secondary_needs=tuple(NeedType(n) for n in row.secondary_needs),
        date_of_birth=row.date_of_birth,
        year_group=row.year_group,
        attendance=Attendance(row.attendance),
        postcode_district=row.postcode_district,
        required_start=row.required_start,
        max_distance_km=row.max_distance_km,
        urgent=row.urgent,
        next_review_due=row.next_review_due,
        raised_at=row.raised_at,
        status=domain.NeedStatus(row.status),
        status_reason=row.status_reason,
        block_contract_id=row.block_contract_id,
        place_number=row.place_number,
        phase_transfer_deadline=row.phase_transfer_deadline,
    )


def need_into_row(need: domain.PlacementNeed, row: NeedRow) -> NeedRow:
    row.status = need.status.value
    row.status_reason = need.status_reason
    row.block_contract_id = need.block_contract_id
    row.place_number = need.place_number
    if need.is_closed and row.closed_at is None:
        row.closed_at = utcnow()
    return row


def new_need_row(need: domain.PlacementNeed, source_event_id: str) -> NeedRow:
    return NeedRow(
        need_id=need.need_id,
        source_event_id=source_event_id,
        child_ref=need.child_ref,
        la_code=need.la_code,
        primary_need=need.primary_need.value,
        secondary_needs=[n.value for n in need.secondary_needs],
        date_of_birth=need.date_of_birth,
        year_group=need.year_group,
        attendance=need.attendance.value,
        postcode_district=need.postcode_district,
        required_start=need.required_start,
        max_distance_km=need.max_distance_km,
        urgent=need.urgent,
        next_review_due=need.next_review_due,
        raised_at=need.raised_at,
        status=need.status.value,
        status_reason=need.status_reason,
        block_contract_id=need.block_contract_id,
        place_number=need.place_number,
        phase_transfer_deadline=need.phase_transfer_deadline,
        closed_at=utcnow() if need.is_closed else None,
    )


def _support_out(items: tuple[domain.SupportItem, ...] | None) -> list[dict[str, str]] | None:
    if items is None:
        return None
    return [{"description": i.description, "weekly_amount": str(i.weekly_amount)} for i in items]


def _support_in(items: list[dict[str, str]] | None) -> tuple[domain.SupportItem, ...] | None:
    if items is None:
        return None
    return tuple(domain.SupportItem(i["description"], Decimal(i["weekly_amount"])) for i in items)


def one_off_out(items: tuple[domain.OneOffCharge, ...]) -> list[dict[str, str]] | None:
    return [{"description": c.description, "amount": str(c.amount)} for c in items] or None


def one_off_in(items: list[dict[str, str]] | None) -> tuple[domain.OneOffCharge, ...]:
    return tuple(domain.OneOffCharge(i["description"], Decimal(i["amount"])) for i in items or ())


def _fee_change(row: FeeChangeRow) -> domain.FeeChange:
    return domain.FeeChange(
        effective_from=row.effective_from,
        kind=domain.FeeChangeKind(row.kind),
        by=row.by,
        at=row.at,
        reason=row.reason,
        core=None if row.core is None else Decimal(row.core).quantize(domain.PENNY),
        support=_support_in(row.support),
        uplift_percent=None if row.uplift_percent is None else Decimal(row.uplift_percent),
        ref=row.ref,
        one_off=one_off_in(row.one_off),
    )


def _review(row: ReviewRow) -> domain.Review:
    return domain.Review(
        review_id=row.review_id,
        due_on=row.due_on,
        completed_on=row.completed_on,
        outcome=ReviewOutcome(row.outcome) if row.outcome else None,
        recorded_by=row.recorded_by,
        statutory_latest=row.statutory_latest,
    )


async def load_placement(session: AsyncSession, placement_id: str) -> domain.Placement | None:
    """The placement with its fee, status and review histories, or None."""
    row = await session.get(PlacementRow, placement_id)
    if row is None:
        return None
    fees = await session.exec(
        select(FeeChangeRow).where(FeeChangeRow.placement_id == placement_id).order_by("seq")
    )
    statuses = await session.exec(
        select(StatusChangeRow).where(StatusChangeRow.placement_id == placement_id).order_by("seq")
    )
    reviews = await session.exec(
        select(ReviewRow).where(ReviewRow.placement_id == placement_id).order_by("due_on")
    )
    return domain.Placement(
        placement_id=row.placement_id,
        child_ref=row.child_ref,
        provider_id=row.provider_id,
        source=PlacementSource(row.source),
        primary_need=NeedType(row.primary_need),
        attendance=Attendance(row.attendance),
        awarded_on=row.awarded_on,
        start_date=row.start_date,
        term_end=row.term_end,
        weeks_per_year=row.weeks_per_year,
        notice_period_weeks=row.notice_period_weeks,
        fee_history=tuple(_fee_change(f) for f in fees.all()),
        status=PlacementStatus(row.status),
        status_history=tuple(
            domain.StatusChange(
                PlacementStatus(s.from_status) if s.from_status else None,
                PlacementStatus(s.to_status),
                s.at,
                s.by,
                s.reason,
            )
            for s in statuses.all()
        ),
        reviews=tuple(_review(r) for r in reviews.all()),
        need_id=row.need_id,
        scheme_ref=row.scheme_ref,
        competition_ref=row.competition_ref,
        block_contract_id=row.block_contract_id,
        started_on=row.started_on,
        notice_given_on=row.notice_given_on,
        end_date=row.end_date,
    )


def _placement_columns(p: domain.Placement) -> dict[str, Any]:
    return {
        "child_ref": p.child_ref,
        "provider_id": p.provider_id,
        "source": p.source.value,
        "primary_need": p.primary_need.value,
        "attendance": p.attendance.value,
        "awarded_on": p.awarded_on,
        "start_date": p.start_date,
        "term_end": p.term_end,
        "weeks_per_year": p.weeks_per_year,
        "notice_period_weeks": p.notice_period_weeks,
        "status": p.status.value,
        "need_id": p.need_id,
        "scheme_ref": p.scheme_ref,
        "competition_ref": p.competition_ref,
        "block_contract_id": p.block_contract_id,
        "started_on": p.started_on,
        "notice_given_on": p.notice_given_on,
        "end_date": p.end_date,
    }


async def save_placement(
    session: AsyncSession, placement: domain.Placement, before: domain.Placement | None
) -> None:
    """Write a placement after a domain change; histories are appended, reviews synced."""
    row = await session.get(PlacementRow, placement.placement_id)
    if row is None:
        row = PlacementRow(placement_id=placement.placement_id, **_placement_columns(placement))
    else:
        for name, value in _placement_columns(placement).items():
            setattr(row, name, value)
    session.add(row)
    old_fees = len(before.fee_history) if before else 0
    for seq, fee in enumerate(placement.fee_history[old_fees:], start=old_fees):
        session.add(_fee_row(placement.placement_id, seq, fee))
    old_statuses = len(before.status_history) if before else 0
    for seq, change in enumerate(placement.status_history[old_statuses:], start=old_statuses):
        session.add(
            StatusChangeRow(
                placement_id=placement.placement_id,
                seq=seq,
                from_status=change.from_status.value if change.from_status else None,
                to_status=change.to_status.value,
                at=change.at,
                by=change.by,
                reason=change.reason,
            )
        )
    await _sync_reviews(session, placement)


def _fee_row(placement_id: str, seq: int, fee: domain.FeeChange) -> FeeChangeRow:
    return FeeChangeRow(
        placement_id=placement_id,
        seq=seq,
        effective_from=fee.effective_from,
        kind=fee.kind.value,
        by=fee.by,
        at=fee.at,
        reason=fee.reason,
        core=fee.core,
        support=_support_out(fee.support),
        uplift_percent=fee.uplift_percent,
        ref=fee.ref,
        one_off=one_off_out(fee.one_off),
    )


async def _sync_reviews(session: AsyncSession, placement: domain.Placement) -> None:
    rows = await session.exec(
        select(ReviewRow).where(ReviewRow.placement_id == placement.placement_id)
    )
    existing = {r.review_id: r for r in rows.all()}
    wanted = {r.review_id for r in placement.reviews}
    for review_id, stale in existing.items():
        if review_id not in wanted:
            await session.delete(stale)
    for review in placement.reviews:
        row = existing.get(review.review_id) or ReviewRow(
            review_id=review.review_id, placement_id=placement.placement_id, due_on=review.due_on
        )
        if row.due_on != review.due_on:
            # A moved review is a new appointment: its reminders are owed again.
            row.reminders_sent = []
            row.overdue_sent = False
        row.due_on = review.due_on
        row.completed_on = review.completed_on
        row.outcome = review.outcome.value if review.outcome else None
        row.recorded_by = review.recorded_by
        row.statutory_latest = review.statutory_latest
        session.add(row)


def uplift_from_row(row: UpliftRow) -> domain.UpliftRequest:
    return domain.UpliftRequest(
        uplift_id=row.uplift_id,
        placement_id=row.placement_id,
        requested_percent=Decimal(row.requested_percent).quantize(domain.PENNY),
        cap_percent=Decimal(row.cap_percent),
        effective_from=row.effective_from,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        reason=row.reason,
        decision=UpliftDecision(row.decision) if row.decision else None,
        approved_percent=None if row.approved_percent is None else Decimal(row.approved_percent),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
    )


def uplift_into_row(uplift: domain.UpliftRequest, row: UpliftRow | None = None) -> UpliftRow:
    row = row or UpliftRow(
        uplift_id=uplift.uplift_id,
        placement_id=uplift.placement_id,
        requested_percent=uplift.requested_percent,
        cap_percent=uplift.cap_percent,
        effective_from=uplift.effective_from,
        requested_by=uplift.requested_by,
        requested_at=uplift.requested_at,
        reason=uplift.reason,
    )
    row.decision = uplift.decision.value if uplift.decision else None
    row.approved_percent = uplift.approved_percent
    row.decided_by = uplift.decided_by
    row.decided_at = uplift.decided_at
    row.decision_reason = uplift.decision_reason
    return row


async def load_block(session: AsyncSession, block_contract_id: str) -> domain.BlockContract | None:
    row = await session.get(BlockContractRow, block_contract_id)
    if row is None:
        return None
    places = await session.exec(
        select(BlockPlaceRow)
        .where(BlockPlaceRow.block_contract_id == block_contract_id)
        .order_by("place_number")
    )
    return domain.BlockContract(
        block_contract_id=row.block_contract_id,
        provider_id=row.provider_id,
        primary_need=NeedType(row.primary_need),
        attendance=Attendance(row.attendance),
        term_start=row.term_start,
        term_end=row.term_end,
        weekly_fee_per_place=Decimal(row.weekly_fee_per_place).quantize(domain.PENNY),
        notice_period_weeks=row.notice_period_weeks,
        occupants=tuple(p.occupant_ref for p in places.all()),
        competition_ref=row.competition_ref,
        support=_support_in(row.support) or (),
        one_off_charges=one_off_in(row.one_off),
        weeks_per_year=row.weeks_per_year,
    )


async def save_block(session: AsyncSession, block: domain.BlockContract, created_by: str) -> None:
    row = await session.get(BlockContractRow, block.block_contract_id)
    if row is None:
        session.add(
            BlockContractRow(
                block_contract_id=block.block_contract_id,
                provider_id=block.provider_id,
                primary_need=block.primary_need.value,
                attendance=block.attendance.value,
                term_start=block.term_start,
                term_end=block.term_end,
                weekly_fee_per_place=block.weekly_fee_per_place,
                notice_period_weeks=block.notice_period_weeks,
                competition_ref=block.competition_ref,
                created_by=created_by,
                support=_support_out(block.support),
                one_off=one_off_out(block.one_off_charges),
                weeks_per_year=block.weeks_per_year,
            )
        )
    else:
        row.term_end = block.term_end  # a renewal extends the term
        session.add(row)
    await session.exec(
        delete(BlockPlaceRow).where(col(BlockPlaceRow.block_contract_id) == block.block_contract_id)
    )
    for number, occupant in enumerate(block.occupants, start=1):
        session.add(
            BlockPlaceRow(
                block_contract_id=block.block_contract_id,
                place_number=number,
                occupant_ref=occupant,
            )
        )


async def blocks_for(
    session: AsyncSession, need: str, attendance: str
) -> list[domain.BlockContract]:
    """Block contracts of one category (need type and attendance)."""
    ids = await session.exec(
        select(BlockContractRow.block_contract_id).where(
            BlockContractRow.primary_need == need, BlockContractRow.attendance == attendance
        )
    )
    blocks = [await load_block(session, block_id) for block_id in ids.all()]
    return [b for b in blocks if b is not None]


async def _held_lines(session: AsyncSession, ledger_id: str) -> dict[int, SpendLedgerRow]:
    held = await session.exec(
        select(SpendLedgerRow).where(SpendLedgerRow.placement_id == ledger_id)
    )
    return {r.financial_year: r for r in held.all()}


def _amounts(rows: Mapping[int, SpendLedgerRow]) -> dict[int, Decimal]:
    return {fy: Decimal(r.amount).quantize(domain.PENNY) for fy, r in rows.items()}


def _post(
    session: AsyncSession,
    rows: Mapping[int, SpendLedgerRow],
    snapshots: list[domain.events.PlacementSpendCommitted],
) -> list[domain.events.PlacementSpendCommitted]:
    before = _amounts(rows)
    for snap in snapshots:
        row = rows.get(snap.financial_year) or SpendLedgerRow(
            placement_id=snap.placement_id,
            financial_year=snap.financial_year,
            provider_id=snap.provider_id,
            primary_need=snap.primary_need.value,
            source=snap.source.value,
            on_contract=snap.on_contract,
            amount=snap.amount,
            line=snap.line,
        )
        row.amount = snap.amount
        row.adjustment = snap.adjustment
        row.updated_at = utcnow()
        session.add(row)
    # Only years whose committed amount changed are worth a snapshot event.
    return [s for s in snapshots if before.get(s.financial_year) != s.amount]


async def write_spend(
    session: AsyncSession, placement: domain.Placement, today: date | None = None
) -> list[domain.events.PlacementSpendCommitted]:
    """Replace the ledger rows of a placement; returns the snapshot events to publish.

    With ``today``, closed financial years keep their lines (``domain.post_to_ledger``).
    """
    rows = await _held_lines(session, placement.placement_id)
    snapshots = domain.spend_committed_events(placement, _amounts(rows), today)
    return _post(session, rows, snapshots)


async def write_block_spend(
    session: AsyncSession, block: domain.BlockContract, today: date | None = None
) -> list[domain.events.PlacementSpendCommitted]:
    """Post the block's unfilled-places line: its cost minus what its placements' ledger
    lines already count, per financial year; returns the snapshot events to publish."""
    ids = select(PlacementRow.placement_id).where(
        PlacementRow.block_contract_id == block.block_contract_id
    )
    lines = await session.exec(
        select(SpendLedgerRow).where(col(SpendLedgerRow.placement_id).in_(ids))
    )
    counted: dict[int, Decimal] = {}
    for line in lines.all():
        counted[line.financial_year] = counted.get(line.financial_year, Decimal(0)) + Decimal(
            line.amount
        )
    rows = await _held_lines(session, block.block_contract_id)
    snapshots = domain.block_spend_events(block, counted, _amounts(rows), today)
    return _post(session, rows, snapshots)


def offer_from_row(row: BlockOfferRow) -> domain.BlockOffer:
    return domain.BlockOffer(
        offer_id=row.offer_id,
        need_id=row.need_id,
        block_contract_id=row.block_contract_id,
        place_number=row.place_number,
        provider_id=row.provider_id,
        offered_on=row.offered_on,
        respond_by=row.respond_by,
        status=domain.BlockOfferStatus(row.status),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        placement_id=row.placement_id,
    )


def offer_into_row(offer: domain.BlockOffer, row: BlockOfferRow | None = None) -> BlockOfferRow:
    row = row or BlockOfferRow(
        offer_id=offer.offer_id,
        need_id=offer.need_id,
        block_contract_id=offer.block_contract_id,
        place_number=offer.place_number,
        provider_id=offer.provider_id,
        status=offer.status.value,
        offered_on=offer.offered_on,
        respond_by=offer.respond_by,
    )
    row.status = offer.status.value
    row.decided_by = offer.decided_by
    row.decided_at = offer.decided_at
    row.reason = offer.reason
    row.placement_id = offer.placement_id
    return row


async def open_offer_for_need(session: AsyncSession, need_id: str) -> BlockOfferRow | None:
    """The need's open block place offer, if one was made (needs offered before offers
    were recorded have none: the commissioner decides those)."""
    rows = await session.exec(
        select(BlockOfferRow).where(
            BlockOfferRow.need_id == need_id,
            BlockOfferRow.status == domain.BlockOfferStatus.OPEN.value,
        )
    )
    return rows.first()
