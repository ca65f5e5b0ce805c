"""Call-off competitions, invitations and bids: tables and mapping."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from services.procurement import domain as d
from services.procurement.models._base import (
    ProcurementModel,
    _aware,
    _date_or_none,
    _iso_or_none,
    _json,
)
from shared.contracts.common import Attendance, NeedType

# ------------------------------------------------------------------- competitions


class CompetitionRow(ProcurementModel, table=True):
    """A call-off competition; its evidence (screenings, tier steps) is JSON."""

    __tablename__ = "competition"

    id: str = Field(primary_key=True, max_length=64)
    scheme_id: str = Field(max_length=36, index=True, foreign_key="scheme.id")
    category_code: str = Field(max_length=50)
    kind: str = Field(max_length=20)
    title: str = Field(max_length=300)
    status: str = Field(max_length=30, index=True)
    round: int = 1
    current_lot: str | None = Field(default=None, max_length=50)
    need_ref: str | None = Field(default=None, max_length=100, unique=True)
    spec: dict[str, Any] = _json()
    opened_at: datetime = _aware()
    deadline_at: datetime = _aware(index=True)
    closed_at: datetime | None = _aware(nullable=True)
    urgent_reason: str | None = Field(default=None, max_length=1000)
    screenings: list[dict[str, Any]] = _json()
    tier_steps: list[dict[str, Any]] = _json()
    outcomes: list[dict[str, Any]] = _json()  # "no suitable bid" declarations
    # Bids set aside as non-compliant at the deadline: [{bid_id, provider_id, reason, round}]
    set_aside: list[dict[str, Any]] | None = _json(nullable=True)


class InvitationRow(ProcurementModel, table=True):
    """Evidence that a provider was invited: when, in which round and tier, and why."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("competition_id", "provider_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: str = Field(max_length=64, index=True, foreign_key="competition.id")
    provider_id: str = Field(max_length=36, index=True)
    lot_code: str | None = Field(default=None, max_length=50)
    round: int
    reason: str = Field(max_length=20)
    invited_at: datetime = _aware()


def spec_json(spec: d.CompetitionSpec) -> dict[str, Any]:
    f = spec.filter
    return {
        "quality_weight": spec.quality_weight,
        "price_weight": spec.price_weight,
        "places": spec.places,
        "term_start": _iso_or_none(spec.term_start),
        "term_end": _iso_or_none(spec.term_end),
        "opened_by": spec.opened_by,
        "quality_questions": [asdict(q) for q in spec.quality_questions],
        "filter": {
            "need_type": f.need_type.value,
            "attendance": f.attendance.value,
            "min_age": f.min_age,
            "max_age": f.max_age,
            "max_distance_km": f.max_distance_km,
            "origin": None if f.origin is None else [f.origin.easting, f.origin.northing],
        },
    }


def spec_to_domain(row: CompetitionRow) -> d.CompetitionSpec:
    s = row.spec
    f = s["filter"]
    origin = f.get("origin")
    return d.CompetitionSpec(
        competition_id=row.id,
        scheme_id=row.scheme_id,
        category_code=row.category_code,
        kind=d.CompetitionKind(row.kind),
        title=row.title,
        filter=d.FilterCriteria(
            need_type=NeedType(f["need_type"]),
            attendance=Attendance(f["attendance"]),
            min_age=f.get("min_age"),
            max_age=f.get("max_age"),
            origin=d.GridPoint(*origin) if origin else None,
            max_distance_km=f.get("max_distance_km"),
        ),
        quality_weight=s["quality_weight"],
        price_weight=s["price_weight"],
        quality_questions=tuple(d.QualityQuestion(**q) for q in s["quality_questions"]),
        places=s["places"],
        term_start=_date_or_none(s.get("term_start")),
        term_end=_date_or_none(s.get("term_end")),
        need_ref=row.need_ref,
        opened_by=s.get("opened_by", ""),
    )


def competition_to_domain(row: CompetitionRow, invitations: list[InvitationRow]) -> d.Competition:
    return d.Competition(
        spec=spec_to_domain(row),
        status=d.CompetitionStatus(row.status),
        round=row.round,
        current_lot=row.current_lot,
        opened_at=row.opened_at,
        deadline_at=row.deadline_at,
        urgent_reason=row.urgent_reason,
        invitations=tuple(
            d.Invitation(
                i.provider_id, i.lot_code, i.round, i.invited_at, d.InvitationReason(i.reason)
            )
            for i in invitations
        ),
        screenings=tuple(
            d.Screening(
                s["provider_id"], s["lot_code"], s["eligible"], tuple(s["reasons"]), s["round"]
            )
            for s in row.screenings
        ),
        tier_steps=tuple(d.TierStep(**t) for t in row.tier_steps),
        closed_at=row.closed_at,
    )


def competition_row(c: d.Competition) -> CompetitionRow:
    row = CompetitionRow(
        id=c.competition_id,
        scheme_id=c.scheme_id,
        category_code=c.spec.category_code,
        kind=c.spec.kind.value,
        title=c.spec.title,
        status=c.status.value,
        need_ref=c.spec.need_ref,
        spec=spec_json(c.spec),
        opened_at=c.opened_at,
        deadline_at=c.deadline_at,
        outcomes=[],
    )
    apply_competition(row, c)
    return row


def apply_competition(row: CompetitionRow, c: d.Competition) -> None:
    """Copy the competition's state and evidence onto its row (invitations apart)."""
    row.status = c.status.value
    row.round = c.round
    row.current_lot = c.current_lot
    row.deadline_at = c.deadline_at
    row.closed_at = c.closed_at
    row.urgent_reason = c.urgent_reason
    row.screenings = [asdict(s) for s in c.screenings]
    row.tier_steps = [asdict(t) for t in c.tier_steps]


def invitation_row(competition_id: str, i: d.Invitation) -> InvitationRow:
    return InvitationRow(
        competition_id=competition_id,
        provider_id=i.provider_id,
        lot_code=i.lot_code,
        round=i.round,
        reason=i.reason.value,
        invited_at=i.invited_at,
    )


# --------------------------------------------------------------------------- bids


class BidRow(ProcurementModel, table=True):
    """A bid; a resubmission supersedes the provider's live bid (kept, not deleted)."""

    __tablename__ = "bid"
    __table_args__ = (Index("ix_bid_live", "competition_id", "round", "superseded"),)

    id: str = Field(primary_key=True, max_length=36)
    competition_id: str = Field(max_length=64, foreign_key="competition.id")
    provider_id: str = Field(max_length=36, index=True)
    round: int
    version: int = 1
    replaces_bid_id: str | None = Field(default=None, max_length=36)
    superseded: bool = False
    submitted_at: datetime = _aware()
    annual_cost: str = Field(max_length=30)
    offer: dict[str, Any] = _json()
    # Withdrawn by the provider before the deadline (also superseded: never evaluated).
    withdrawn_at: datetime | None = _aware(nullable=True)


def bid_row(b: d.Bid) -> BidRow:
    o = b.offer
    return BidRow(
        id=b.bid_id,
        competition_id=b.competition_id,
        provider_id=b.provider_id,
        round=b.round,
        version=b.version,
        replaces_bid_id=b.replaces_bid_id,
        submitted_at=b.submitted_at,
        annual_cost=str(o.annual_cost),
        offer={
            "fee_basis": o.fee_basis.value,
            "core_fee": str(o.core_fee),
            "weeks_per_year": o.weeks_per_year,
            "start_date": o.start_date.isoformat(),
            "answers": dict(o.answers),
            "additional_support": [
                {"description": i.description, "amount": str(i.amount), "basis": i.basis.value}
                for i in o.additional_support
            ],
        },
    )


def bid_to_domain(row: BidRow) -> d.Bid:
    o = row.offer
    return d.Bid(
        bid_id=row.id,
        competition_id=row.competition_id,
        round=row.round,
        offer=d.BidOffer(
            provider_id=row.provider_id,
            fee_basis=d.FeeBasis(o["fee_basis"]),
            core_fee=Decimal(o["core_fee"]),
            weeks_per_year=o["weeks_per_year"],
            start_date=date.fromisoformat(o["start_date"]),
            answers=dict(o["answers"]),
            additional_support=tuple(
                d.SupportItem(i["description"], Decimal(i["amount"]), d.ChargeBasis(i["basis"]))
                for i in o["additional_support"]
            ),
        ),
        submitted_at=row.submitted_at,
        version=row.version,
        replaces_bid_id=row.replaces_bid_id,
    )
