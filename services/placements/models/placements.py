"""Individual placement agreements (IPA) and their fee, status, review, uplift and
variation histories; rows <-> ``domain.Placement``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BindParameter, Column, Numeric, bindparam
from sqlmodel import Field, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.placements import domain
from services.placements.models._base import (
    PlacementsModel,
    _json,
    _money,
    _support_in,
    _support_out,
    one_off_in,
    one_off_out,
)
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import (
    PlacementBasis,
    PlacementSource,
    PlacementStatus,
    ReviewOutcome,
    UpliftDecision,
)
from shared.infra_models import AwareDateTime, utcnow


class PlacementRow(PlacementsModel, table=True):
    """An individual placement agreement (its histories are in the tables below)."""

    __tablename__ = "placement"

    placement_id: str = Field(primary_key=True, max_length=36)
    child_ref: str = Field(max_length=40, index=True)
    provider_id: str = Field(max_length=64, index=True)
    source: str = Field(max_length=20)
    # The legal basis it was bought on (placements_v1.PlacementBasis) and the reference
    # of the order, notice or decision record justifying a direct award.
    basis: str = Field(default="off_contract_spot", max_length=30, index=True)
    basis_reference: str | None = Field(default=None, max_length=100)
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
    fees, statuses, reviews = await placement_histories(session, placement_id)
    return placement_of(row, fees, statuses, reviews)


# Built once: constructing a statement costs about as much as running it on SQLite.
_BY_PLACEMENT: BindParameter[str] = bindparam("placement_id")
_FEES = select(FeeChangeRow).where(FeeChangeRow.placement_id == _BY_PLACEMENT).order_by("seq")
_STATUSES = (
    select(StatusChangeRow).where(StatusChangeRow.placement_id == _BY_PLACEMENT).order_by("seq")
)
_REVIEWS = select(ReviewRow).where(ReviewRow.placement_id == _BY_PLACEMENT).order_by("due_on")


async def placement_histories(
    session: AsyncSession, placement_id: str
) -> tuple[list[FeeChangeRow], list[StatusChangeRow], list[ReviewRow]]:
    """A placement's fee changes and status changes (in order) and reviews (by due date)."""
    key = {"placement_id": placement_id}
    fees = await session.exec(_FEES, params=key)
    statuses = await session.exec(_STATUSES, params=key)
    reviews = await session.exec(_REVIEWS, params=key)
    return list(fees.all()), list(statuses.all()), list(reviews.all())


def placement_of(
    row: PlacementRow,
    fees: list[FeeChangeRow],
    statuses: list[StatusChangeRow],
    reviews: list[ReviewRow],
) -> domain.Placement:
    """The domain placement of its row and its history rows (as ``placement_histories``)."""
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
        fee_history=tuple(_fee_change(f) for f in fees),
        status=PlacementStatus(row.status),
        status_history=tuple(
            domain.StatusChange(
                PlacementStatus(s.from_status) if s.from_status else None,
                PlacementStatus(s.to_status),
                s.at,
                s.by,
                s.reason,
            )
            for s in statuses
        ),
        reviews=tuple(_review(r) for r in reviews),
        need_id=row.need_id,
        scheme_ref=row.scheme_ref,
        competition_ref=row.competition_ref,
        block_contract_id=row.block_contract_id,
        started_on=row.started_on,
        notice_given_on=row.notice_given_on,
        end_date=row.end_date,
        basis=PlacementBasis(row.basis),
        basis_reference=row.basis_reference,
    )


def _placement_columns(p: domain.Placement) -> dict[str, Any]:
    return {
        "child_ref": p.child_ref,
        "provider_id": p.provider_id,
        "source": p.source.value,
        "basis": p.legal_basis.value,
        "basis_reference": p.basis_reference,
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
