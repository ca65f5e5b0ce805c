"""Awards and notices: tables and mapping."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Field

from services.procurement import domain as d
from services.procurement.models._base import ProcurementModel, _aware, _json
from shared.contracts import procurement_v1


class AwardRow(ProcurementModel, table=True):
    """An approved award with the winning bid's commercial terms."""

    __tablename__ = "award"

    competition_id: str = Field(primary_key=True, max_length=64, foreign_key="competition.id")
    bid_id: str = Field(max_length=36)
    provider_id: str = Field(max_length=36, index=True)
    round: int
    approved_by: str = Field(max_length=200)
    approved_at: datetime = _aware()
    contract_value: str = Field(max_length=30)
    terms: dict[str, Any] = _json()  # the procurement.competition.awarded payload
    # "Awarded, in standstill" until standstill_ended_at is set (then the contract exists).
    contract_awaits_standstill: bool = False
    standstill_ends_at: datetime | None = _aware(nullable=True)
    standstill_ended_at: datetime | None = _aware(nullable=True)


def award_to_domain(row: AwardRow) -> d.Award:
    """The approved award as the domain knows it, from its stored event payload."""
    t = procurement_v1.CompetitionAwarded.model_validate(row.terms)
    return d.Award(
        competition_id=t.competition_id,
        scheme_id=t.scheme_id,
        round=t.round,
        kind=d.CompetitionKind(t.kind),
        category_code=t.category_code,
        lot_code=t.lot_code,
        bid_id=t.bid_id,
        provider_id=t.provider_id,
        places=t.places,
        need_ref=t.need_ref,
        fee_basis=d.FeeBasis(t.fee_basis),
        core_fee=t.core_fee,
        weekly_core_fee=t.weekly_core_fee,
        weeks_per_year=t.weeks_per_year,
        additional_support=tuple(
            d.SupportItem(i.description, i.amount, d.ChargeBasis(i.basis))
            for i in t.additional_support
        ),
        start_date=t.start_date,
        end_date=t.end_date,
        annual_value=t.annual_value,
        contract_value=t.contract_value,
        price_score=t.price_score,
        quality_score=t.quality_score,
        total_score=t.total_score,
        approved_by=t.approved_by,
        approved_at=t.approved_at,
        standstill_ends_at=t.standstill_ends_at,
        notice_due_on=t.notice_due_on,
        contract_awaits_standstill=row.contract_awaits_standstill,
    )


class NoticeRow(ProcurementModel, table=True):
    """An award notice the council must publish (grouped by quarter where allowed)."""

    __tablename__ = "award_notice"

    competition_id: str = Field(primary_key=True, max_length=64, foreign_key="competition.id")
    scheme_id: str = Field(max_length=36, index=True)
    scheme_reference: str = Field(max_length=100)
    regime: str = Field(max_length=40)
    description: str = Field(max_length=1000)
    provider_id: str = Field(max_length=36)
    value: str = Field(max_length=30)
    awarded_on: date = Field(index=True)
    contract_start: date
    contract_end: date | None = None
    quarter: str = Field(max_length=10, index=True)
    grouped: bool = True
    due_on: date


class TrackedNoticeRow(ProcurementModel, table=True):
    """Every notice the council must publish, of any kind: due, sent, published, overdue."""

    __tablename__ = "notice"

    notice_id: str = Field(primary_key=True, max_length=100)
    kind: str = Field(max_length=40, index=True)
    scheme_id: str = Field(max_length=36, index=True)
    competition_id: str | None = Field(default=None, max_length=64, index=True)
    due_on: date = Field(index=True)
    rule: str = Field(max_length=1000)
    status: str = Field(max_length=20, index=True)
    sent_by: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = _aware(nullable=True)
    published_by: str | None = Field(default=None, max_length=200)
    published_at: datetime | None = _aware(nullable=True)
    publication_ref: str | None = Field(default=None, max_length=200)
    overdue_at: datetime | None = _aware(nullable=True)


def tracked_notice_row(n: d.TrackedNotice, row: TrackedNoticeRow | None = None) -> TrackedNoticeRow:
    """A new row for ``n``, or ``row`` brought up to date with it."""
    values: dict[str, Any] = {
        "kind": n.kind.value,
        "scheme_id": n.scheme_id,
        "competition_id": n.competition_id,
        "due_on": n.due_on,
        "rule": n.rule,
        "status": n.status.value,
        "sent_by": n.sent_by,
        "sent_at": n.sent_at,
        "published_by": n.published_by,
        "published_at": n.published_at,
        "publication_ref": n.publication_ref,
        "overdue_at": n.overdue_at,
    }
    if row is None:
        return TrackedNoticeRow(notice_id=n.notice_id, **values)
    for name, value in values.items():
        setattr(row, name, value)
    return row


def tracked_notice_to_domain(row: TrackedNoticeRow) -> d.TrackedNotice:
    return d.TrackedNotice(
        notice_id=row.notice_id,
        kind=d.NoticeKind(row.kind),
        scheme_id=row.scheme_id,
        competition_id=row.competition_id,
        due_on=row.due_on,
        rule=row.rule,
        status=d.NoticeStatus(row.status),
        sent_by=row.sent_by,
        sent_at=row.sent_at,
        published_by=row.published_by,
        published_at=row.published_at,
        publication_ref=row.publication_ref,
        overdue_at=row.overdue_at,
    )


def notice_row(n: d.AwardNotice) -> NoticeRow:
    return NoticeRow(
        competition_id=n.competition_id,
        scheme_id=n.scheme_id,
        scheme_reference=n.scheme_reference,
        regime=n.regime.value,
        description=n.description,
        provider_id=n.provider_id,
        value=str(n.value),
        awarded_on=n.awarded_on,
        contract_start=n.contract_start,
        contract_end=n.contract_end,
        quarter=str(n.quarter),
        grouped=n.grouped,
        due_on=n.due_on,
    )


def notice_to_domain(row: NoticeRow) -> d.AwardNotice:
    year, q = row.quarter.split("-Q")
    return d.AwardNotice(
        competition_id=row.competition_id,
        scheme_id=row.scheme_id,
        scheme_reference=row.scheme_reference,
        regime=d.RegimeCode(row.regime),
        description=row.description,
        provider_id=row.provider_id,
        value=Decimal(row.value),
        awarded_on=row.awarded_on,
        contract_start=row.contract_start,
        contract_end=row.contract_end,
        quarter=d.Quarter(int(year), int(q)),
        grouped=row.grouped,
        due_on=row.due_on,
    )
