"""Memberships, their history and renewed self-declarations: tables and mapping."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field

from services.procurement import domain as d
from services.procurement.models._base import (
    ProcurementModel,
    _aware,
    _dec_or_none,
    _json,
    _str_or_none,
)

# -------------------------------------------------------------------- memberships


class MembershipRow(ProcurementModel, table=True):
    """A provider admitted to one category of a scheme (in a lot, when tiered)."""

    __tablename__ = "membership"
    __table_args__ = (Index("ix_membership_scheme_category", "scheme_id", "category_code"),)

    id: int | None = Field(default=None, primary_key=True)
    scheme_id: str = Field(max_length=36, foreign_key="scheme.id")
    provider_id: str = Field(max_length=36, index=True)
    category_code: str = Field(max_length=50)
    lot_code: str | None = Field(default=None, max_length=50)
    quality_score: str | None = Field(default=None, max_length=20)
    admitted_on: date
    application_id: str = Field(max_length=36)
    status: str = Field(max_length=20, index=True)
    status_reason: str | None = Field(default=None, max_length=1000)
    status_changed_by: str | None = Field(default=None, max_length=200)
    status_changed_on: date | None = None


class MembershipHistoryRow(ProcurementModel, table=True):
    """Every change of a membership's status, with who, when and why."""

    __tablename__ = "membership_history"

    id: int | None = Field(default=None, primary_key=True)
    membership_id: int = Field(index=True, foreign_key="membership.id")
    status: str = Field(max_length=20)
    reason: str = Field(max_length=1000)
    changed_by: str = Field(max_length=200)
    changed_at: datetime = _aware()


def membership_to_domain(row: MembershipRow) -> d.Membership:
    return d.Membership(
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        category_code=row.category_code,
        lot_code=row.lot_code,
        quality_score=_dec_or_none(row.quality_score),
        admitted_on=row.admitted_on,
        application_id=row.application_id,
        status=d.MembershipStatus(row.status),
        status_reason=row.status_reason,
        status_changed_by=row.status_changed_by,
        status_changed_on=row.status_changed_on,
    )


def membership_row(m: d.Membership) -> MembershipRow:
    return MembershipRow(
        scheme_id=m.scheme_id,
        provider_id=m.provider_id,
        category_code=m.category_code,
        lot_code=m.lot_code,
        quality_score=_str_or_none(m.quality_score),
        admitted_on=m.admitted_on,
        application_id=m.application_id,
        status=m.status.value,
    )


def apply_membership(row: MembershipRow, m: d.Membership) -> None:
    row.status = m.status.value
    row.status_reason = m.status_reason
    row.status_changed_by = m.status_changed_by
    row.status_changed_on = m.status_changed_on


class SelfDeclarationRow(ProcurementModel, table=True):
    """A request for a renewed self-declaration (reg 34(25)) and its answer."""

    __tablename__ = "self_declaration_request"

    id: str = Field(primary_key=True, max_length=36)
    scheme_id: str = Field(max_length=36, index=True, foreign_key="scheme.id")
    provider_id: str = Field(max_length=36, index=True)
    requested_by: str = Field(max_length=200)
    requested_at: datetime = _aware()
    reason: str = Field(default="", max_length=1000)
    due_on: date
    due_at: datetime = _aware(index=True)
    status: str = Field(default="requested", max_length=20, index=True)  # or answered
    answered_by: str | None = Field(default=None, max_length=200)
    answered_at: datetime | None = _aware(nullable=True)
    declaration: dict[str, str] | None = _json(nullable=True)
    overdue_at: datetime | None = _aware(nullable=True)


def self_declaration_row(r: d.SelfDeclarationRequest) -> SelfDeclarationRow:
    return SelfDeclarationRow(
        id=r.request_id,
        scheme_id=r.scheme_id,
        provider_id=r.provider_id,
        requested_by=r.requested_by,
        requested_at=r.requested_at,
        reason=r.reason,
        due_on=r.due_on,
        due_at=r.due_at,
    )


def self_declaration_to_domain(row: SelfDeclarationRow) -> d.SelfDeclarationRequest:
    return d.SelfDeclarationRequest(
        request_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        reason=row.reason,
        answered_by=row.answered_by,
        answered_at=row.answered_at,
        declaration=dict(row.declaration or {}),
    )
