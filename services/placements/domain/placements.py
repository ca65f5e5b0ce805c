"""Placements: individual placement agreements (IPA), their reviews' schedule and status machine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from services.placements.domain._rules import (
    MAX_WEEKLY_CORE_FEE,
    RENEWAL_LEAD_WEEKS,
    _check_notice_period,
    _check_weeks_per_year,
    _require,
    _require_aware,
    _require_text,
    add_weeks,
    add_years,
)
from services.placements.domain.basis import (
    basis_rule,
    check_basis,
    default_basis,
)
from services.placements.domain.fees import (
    FeeChange,
    FeeChangeKind,
    OneOffCharge,
    SupportItem,
    WeeklyFee,
    _check_money,
    _check_one_off,
    _check_support,
    apportion_by_financial_year,
    fee_on,
)
from shared.contracts import procurement_v1
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import (
    PlacementBasis,
    PlacementSource,
    PlacementStatus,
    ReviewOutcome,
)
from shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One status transition: who, when, why."""

    from_status: PlacementStatus | None
    to_status: PlacementStatus
    at: datetime
    by: str
    reason: str


class ReviewState(StrEnum):
    """Where a review stands on a given day."""

    SCHEDULED = "scheduled"
    DUE = "due"  # within the reminder window (6 weeks) before the due date
    OVERDUE = "overdue"  # past the due date without an outcome
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class Review:
    """An annual placement review, aligned to the EHC plan's annual review."""

    review_id: str
    due_on: date
    completed_on: date | None = None
    outcome: ReviewOutcome | None = None
    recorded_by: str | None = None
    # Latest lawful due date (12 months from the review last held); None when not known.
    statutory_latest: date | None = None

    @property
    def is_open(self) -> bool:
        """No outcome recorded yet."""
        return self.outcome is None

    @property
    def beyond_statutory_limit(self) -> bool:
        """Due later than 12 months after the last review held: the council's date stands,
        flagged for monitoring (CFA 2014 s.44)."""
        return self.statutory_latest is not None and self.due_on > self.statutory_latest


@dataclass(frozen=True, slots=True)
class Award:
    """What an award (or block place, or manual spot purchase) gives to build an IPA."""

    child_ref: str
    provider_id: str
    source: PlacementSource
    primary_need: NeedType
    attendance: Attendance
    awarded_on: date
    start_date: date
    term_end: date
    weekly_core_fee: Decimal
    weeks_per_year: int
    notice_period_weeks: int
    next_review_due: date  # from the EHC plan: the review schedule aligns to it
    additional_support: tuple[SupportItem, ...] = ()
    need_id: str | None = None
    scheme_ref: str | None = None
    competition_ref: str | None = None
    block_contract_id: str | None = None
    one_off_charges: tuple[OneOffCharge, ...] = ()  # charged once, on the start date
    # The legal basis (None: what the source implies, ``default_basis``) and the
    # reference of the order, notice or decision justifying it.
    basis: PlacementBasis | None = None
    basis_reference: str | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    """An individual placement agreement and its history."""

    placement_id: str
    child_ref: str
    provider_id: str
    source: PlacementSource
    primary_need: NeedType
    attendance: Attendance
    awarded_on: date
    start_date: date
    term_end: date
    weeks_per_year: int
    notice_period_weeks: int
    fee_history: tuple[FeeChange, ...]
    status: PlacementStatus
    status_history: tuple[StatusChange, ...]
    reviews: tuple[Review, ...] = ()
    need_id: str | None = None
    scheme_ref: str | None = None
    competition_ref: str | None = None
    block_contract_id: str | None = None
    started_on: date | None = None
    notice_given_on: date | None = None
    end_date: date | None = None  # last day in force, once known (notice, end, termination)
    basis: PlacementBasis | None = None  # None: what the source implies (legal_basis)
    basis_reference: str | None = None

    @property
    def on_contract(self) -> bool:
        """Bought under a DPS award or block contract (spot purchases are off-contract)."""
        return self.source != PlacementSource.SPOT

    @property
    def legal_basis(self) -> PlacementBasis:
        """The basis it was bought on (recorded, else the one its source implies)."""
        return self.basis or default_basis(self.source)

    @property
    def lawful(self) -> bool:
        """Bought on a lawful basis (else its spend is non-compliant)."""
        return basis_rule(self.legal_basis).lawful

    @property
    def last_day(self) -> date | None:
        """Last day the council is committed to pay for; None if terminated before start."""
        if self.status == PlacementStatus.TERMINATED and self.started_on is None:
            return None
        return self.end_date or self.term_end

    def fee_on(self, on: date) -> WeeklyFee:
        """Weekly fee in force on a date."""
        return fee_on(self.fee_history, on)

    def review(self, review_id: str) -> Review:
        """A review by id (DomainError if unknown)."""
        for review in self.reviews:
            if review.review_id == review_id:
                return review
        raise DomainError("review_id", "unknown_review", f"no review {review_id}")


def _validate_award(award: Award) -> None:
    _require_text(award.child_ref, "child_ref")
    _require_text(award.provider_id, "provider_id")
    _require(
        award.start_date >= award.awarded_on,
        "start_date",
        "start_before_award",
        "start date is before the award date",
    )
    _require(
        award.term_end > award.start_date,
        "term_end",
        "term_end_not_after_start",
        "term end must be after the start date",
    )
    _check_weeks_per_year(award.weeks_per_year)
    required_weeks = procurement_v1.WEEKS_PER_YEAR_FOR_ATTENDANCE
    _require(
        required_weeks.get(award.attendance.value, award.weeks_per_year) == award.weeks_per_year,
        "weeks_per_year",
        "weeks_per_year_mismatch_attendance",
        f"{award.attendance.value} placements are {required_weeks.get(award.attendance.value)} weeks",
    )
    _check_notice_period(award.notice_period_weeks)
    _check_money(award.weekly_core_fee, "weekly_core_fee", MAX_WEEKLY_CORE_FEE)
    _check_support(award.additional_support)
    _check_one_off(award.one_off_charges)
    _validate_source(award)


def _validate_source(award: Award) -> None:
    if award.source == PlacementSource.DPS_AWARD:
        _require_text(award.scheme_ref or "", "scheme_ref")
        _require_text(award.competition_ref or "", "competition_ref")
    if award.source == PlacementSource.BLOCK_CONTRACT:
        _require_text(award.block_contract_id or "", "block_contract_id")


def first_review_due(next_review_due: date, start_date: date) -> date:
    """First placement review: the EHC plan's review date, moved on a year at a time until
    it falls on or after the placement's start."""
    due = next_review_due
    while due < start_date:
        due = add_years(due, 1)
    return due


def annual_review_dates(first_due: date, until: date) -> list[date]:
    """The annual review schedule from ``first_due`` up to ``until`` (inclusive)."""
    dates: list[date] = []
    due = first_due
    while due <= until:
        dates.append(due)
        due = add_years(due, 1)
    return dates


def _review_id(placement_id: str, reviews: Sequence[Review]) -> str:
    # Deterministic ids keep the domain pure and replays stable.
    return f"{placement_id}-R{len(reviews) + 1}"


def _with_review(
    placement: Placement, due_on: date, statutory_latest: date | None = None
) -> Placement:
    last_day = placement.last_day
    if last_day is None or due_on > last_day:
        return placement
    review = Review(
        review_id=_review_id(placement.placement_id, placement.reviews),
        due_on=due_on,
        statutory_latest=statutory_latest,
    )
    return replace(placement, reviews=(*placement.reviews, review))


def create_placement(award: Award, placement_id: str, by: str, at: datetime) -> Placement:
    """Build a pending IPA from an award, after validating it; schedules the first review."""
    _require_text(by, "by")
    _require_aware(at)
    _validate_award(award)
    award_fee = FeeChange(
        effective_from=award.start_date,
        kind=FeeChangeKind.AWARD,
        by=by,
        at=at,
        reason="award",
        core=award.weekly_core_fee,
        support=award.additional_support,
        one_off=award.one_off_charges,
    )
    basis = award.basis or default_basis(award.source)
    reference = award.basis_reference.strip() if award.basis_reference else None
    # Valued as the Act values a contract (Sch 3 para 1): all it could cost over its term.
    value = sum(
        apportion_by_financial_year(
            (award_fee,), award.start_date, award.term_end, award.weeks_per_year
        ).values(),
        Decimal("0"),
    )
    check_basis(award.source, basis, reference or None, award.awarded_on, value)
    placement = Placement(
        placement_id=placement_id,
        child_ref=award.child_ref,
        provider_id=award.provider_id,
        source=award.source,
        primary_need=award.primary_need,
        attendance=award.attendance,
        awarded_on=award.awarded_on,
        start_date=award.start_date,
        term_end=award.term_end,
        weeks_per_year=award.weeks_per_year,
        notice_period_weeks=award.notice_period_weeks,
        fee_history=(award_fee,),
        status=PlacementStatus.PENDING,
        status_history=(StatusChange(None, PlacementStatus.PENDING, at, by, "award"),),
        need_id=award.need_id,
        scheme_ref=award.scheme_ref,
        competition_ref=award.competition_ref,
        block_contract_id=award.block_contract_id,
        basis=basis,
        basis_reference=reference or None,
    )
    return _with_review(placement, first_review_due(award.next_review_due, award.start_date))


# --- status machine -----------------------------------------------------------------------

_CLOSED = {
    PlacementStatus.ENDED: "already_ended",
    PlacementStatus.TERMINATED: "already_terminated",
}
# A closed placement changes no more: it has ended or was terminated.
CLOSED_STATUSES: frozenset[PlacementStatus] = frozenset(_CLOSED)


def is_closed(status: PlacementStatus | str) -> bool:
    """Whether a placement in ``status`` has ended or was terminated."""
    return status in CLOSED_STATUSES


def _require_not_closed(placement: Placement) -> None:
    rule = _CLOSED.get(placement.status)
    _require(rule is None, "status", rule or "", f"placement is {placement.status.value}")


def _require_active(placement: Placement, message: str) -> None:
    _require_not_closed(placement)
    _require(placement.status == PlacementStatus.ACTIVE, "status", "not_active", message)


def _transition(
    placement: Placement, to: PlacementStatus, by: str, at: datetime, reason: str, **changes: Any
) -> Placement:
    _require_text(by, "by")
    _require_text(reason, "reason")
    _require_aware(at)
    change = StatusChange(placement.status, to, at, by, reason)
    return replace(
        placement, status=to, status_history=(*placement.status_history, change), **changes
    )


def _drop_reviews_after(placement: Placement, last_day: date) -> Placement:
    # Reviews that would fall after the placement ends are no longer scheduled.
    kept = tuple(r for r in placement.reviews if not (r.is_open and r.due_on > last_day))
    return replace(placement, reviews=kept)


def start_placement(placement: Placement, started_on: date, by: str, at: datetime) -> Placement:
    """pending -> active: the child started."""
    _require_not_closed(placement)
    _require(
        placement.status == PlacementStatus.PENDING,
        "status",
        "not_pending",
        f"placement is {placement.status.value}",
    )
    _require(
        started_on >= placement.start_date,
        "started_on",
        "start_before_agreed_start",
        "cannot start before the agreed start date; vary the placement first",
    )
    _require(started_on <= placement.term_end, "started_on", "after_term_end", "after term end")
    return _transition(
        placement, PlacementStatus.ACTIVE, by, at, "child started", started_on=started_on
    )


def notice_end_date(notice_given_on: date, notice_period_weeks: int) -> date:
    """Termination with notice: end date = notice given + notice period (calendar weeks)."""
    return add_weeks(notice_given_on, notice_period_weeks)


def give_notice(
    placement: Placement, notice_given_on: date, by: str, at: datetime, reason: str
) -> Placement:
    """active -> ending: notice given; ends at notice + notice period (never after term end)."""
    _require_not_closed(placement)
    _require(
        placement.status != PlacementStatus.ENDING,
        "status",
        "already_ending",
        "notice has already been given",
    )
    _require(
        placement.status == PlacementStatus.ACTIVE,
        "status",
        "not_active",
        "a placement that has not started is terminated, not given notice",
    )
    _require(
        notice_given_on >= placement.start_date,
        "notice_given_on",
        "notice_before_start",
        "notice date is before the start date",
    )
    end = min(notice_end_date(notice_given_on, placement.notice_period_weeks), placement.term_end)
    ending = _transition(
        placement,
        PlacementStatus.ENDING,
        by,
        at,
        reason,
        notice_given_on=notice_given_on,
        end_date=end,
    )
    return _drop_reviews_after(ending, end)


def terminate_placement(
    placement: Placement, terminated_on: date, by: str, at: datetime, reason: str
) -> Placement:
    """-> terminated at once: before start (nothing committed) or without notice."""
    _require_not_closed(placement)
    if placement.status == PlacementStatus.PENDING:
        # Never started: nothing is committed (last_day is None), whatever the date.
        return _transition(
            placement,
            PlacementStatus.TERMINATED,
            by,
            at,
            reason,
            reviews=(),
            end_date=terminated_on,
        )
    _require(
        terminated_on >= placement.start_date,
        "terminated_on",
        "termination_before_start",
        "termination date is before the start date",
    )
    last_day = placement.last_day
    _require(
        last_day is None or terminated_on <= last_day,
        "terminated_on",
        "termination_after_end",
        "termination date is after the placement ends",
    )
    terminated = _transition(
        placement, PlacementStatus.TERMINATED, by, at, reason, end_date=terminated_on
    )
    return _drop_reviews_after(terminated, terminated_on)


def complete_end(placement: Placement, today: date, by: str, at: datetime) -> Placement:
    """-> ended once the last day has passed (an active placement ends at term end)."""
    _require_not_closed(placement)
    _require(
        placement.status != PlacementStatus.PENDING,
        "status",
        "not_started",
        "a placement that never started is terminated, not ended",
    )
    last_day = placement.last_day
    assert last_day is not None  # only pending-then-terminated placements have none
    _require(today > last_day, "today", "end_date_not_reached", f"placement runs until {last_day}")
    if placement.status == PlacementStatus.ACTIVE:
        placement = _transition(
            placement, PlacementStatus.ENDING, by, at, "term ended", end_date=last_day
        )
    return _transition(placement, PlacementStatus.ENDED, by, at, "end date passed")


def end_placements_for_ceased_plan(
    placements: Iterable[Placement], ceased_on: date, by: str, at: datetime
) -> list[Placement]:
    """A ceased EHC plan ends the child's placements; returns only the changed ones.

    Pending placements are terminated. Active ones move to ending with the end date on
    the cease date (kept within start..term end): the duty to secure the placement falls
    away with the plan, so no contractual notice is added; the commissioner may vary the
    end date if a notice payment is agreed. Ending placements are brought forward if they
    would run past the cease date. Ended and terminated placements are left alone.
    """
    reason = f"EHC plan ceased on {ceased_on.isoformat()}"
    changed: list[Placement] = []
    for placement in placements:
        updated = _end_for_cease(placement, ceased_on, by, at, reason)
        if updated is not placement:
            changed.append(updated)
    return changed


def _end_for_cease(
    placement: Placement, ceased_on: date, by: str, at: datetime, reason: str
) -> Placement:
    if placement.status == PlacementStatus.PENDING:
        return terminate_placement(placement, ceased_on, by, at, reason)
    end = min(max(ceased_on, placement.start_date), placement.term_end)
    if placement.status == PlacementStatus.ACTIVE:
        ending = _transition(
            placement,
            PlacementStatus.ENDING,
            by,
            at,
            reason,
            notice_given_on=ceased_on,
            end_date=end,
        )
        return _drop_reviews_after(ending, end)
    if placement.status == PlacementStatus.ENDING and placement.end_date is not None:
        if end < placement.end_date:
            moved = _transition(placement, PlacementStatus.ENDING, by, at, reason, end_date=end)
            return _drop_reviews_after(moved, end)
    return placement


def renewal_decision_date(
    term_end: date, notice_period_weeks: int, lead_weeks: int = RENEWAL_LEAD_WEEKS
) -> date:
    """Date by which to ask for a renewal decision: term end - notice period - lead margin."""
    return add_weeks(term_end, -(notice_period_weeks + lead_weeks))


def renewal_notice_deadline(term_end: date, notice_period_weeks: int) -> date:
    """Last day notice can be given to end at term end; no decision by then is overdue."""
    return add_weeks(term_end, -notice_period_weeks)
