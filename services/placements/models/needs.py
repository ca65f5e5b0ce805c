"""Placement needs: the table and its rows <-> ``domain.PlacementNeed``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field

from services.placements import domain
from services.placements.models._base import (
    PlacementsModel,
    _json,
)
from shared.contracts.common import Attendance, NeedType
from shared.infra_models import AwareDateTime, utcnow


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
