"""Placements: a placement made outside this system, imported with its history to today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from services.placements.domain._rules import add_years
from services.placements.domain.placements import (
    Award,
    Placement,
    complete_end,
    create_placement,
    start_placement,
)
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import PlacementBasis, PlacementSource
from shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class ImportedPlacement:
    """One placement the council already holds (often a spot purchase made before the DPS).

    ``end_date`` set: the placement ran (or runs) until that day. ``end_date`` None:
    open-ended, in force until ``term_end`` (default: the end of its current term)."""

    child_ref: str
    provider_id: str
    primary_need: NeedType
    attendance: Attendance
    start_date: date
    weekly_core_fee: Decimal
    weeks_per_year: int
    notice_period_weeks: int
    source: PlacementSource
    end_date: date | None = None
    term_end: date | None = None
    next_review_due: date | None = None  # required for a placement still in force
    scheme_ref: str | None = None
    competition_ref: str | None = None
    block_contract_id: str | None = None
    # The legal basis (None: what the source implies) and the reference of the order,
    # notice or decision record justifying a direct award (never a child's name).
    basis: PlacementBasis | None = None
    basis_reference: str | None = None


def imported_term_end(item: ImportedPlacement, today: date, term_years: int) -> date:
    """The imported placement's term end: its end date, else the term end given, else the
    end of its current term of ``term_years`` (an open spot placement rolls on term by term)."""
    if item.end_date is not None:
        return item.end_date
    if item.term_end is not None:
        return item.term_end
    term_end = add_years(item.start_date, term_years) - timedelta(days=1)
    while term_end < today:
        term_end = add_years(term_end + timedelta(days=1), term_years) - timedelta(days=1)
    return term_end


def imported_placement(
    item: ImportedPlacement,
    placement_id: str,
    by: str,
    at: datetime,
    today: date,
    term_years: int,
) -> list[Placement]:
    """The placement's states from creation to today, through the domain's own rules:
    created, started once its start date has come, ended once its term is over."""
    if item.end_date is not None and item.term_end is not None and item.term_end != item.end_date:
        raise DomainError(
            "term_end", "differs_from_end_date", "give end_date or term_end, not both"
        )
    still_open = item.end_date is None or item.end_date >= today
    if still_open and item.next_review_due is None:
        raise DomainError(
            "next_review_due", "required_for_open_placement", "a placement in force needs one"
        )
    term_end = imported_term_end(item, today, term_years)
    # A closed placement owes no review: its plan date is put past its last day.
    next_review = item.next_review_due or (term_end + timedelta(days=1))
    award = Award(
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
        basis=item.basis,
        basis_reference=item.basis_reference,
    )
    states = [create_placement(award, placement_id, by, at)]
    if item.start_date <= today:
        states.append(start_placement(states[-1], item.start_date, by, at))
        if term_end < today:
            states.append(complete_end(states[-1], today, by, at))
    return states
