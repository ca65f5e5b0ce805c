"""Placements: pure rules and state transitions (no I/O, no database, no clock).

Everything here takes the dates and times it needs as arguments (``today``, ``at``) and
returns new immutable values; callers persist them and publish the matching events.
A refused change raises ``DomainError(field, rule, message)`` so the API can answer 422
naming both the field and the rule.

Sections: financial years and fee maths; EHC plan records; placement needs and block
contract places; individual placement agreements (IPA) and their status machine;
variations and uplifts; reviews; renewal and notice; block contracts; spend summaries;
event payload builders.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from shared import errors, geography
from shared.contracts import placements_v1 as events
from shared.contracts import procurement_v1
from shared.contracts.common import Attendance, NeedType
from shared.contracts.ehc_plans_v1 import (
    EhcPlanAmended,
    EhcPlanCeased,
    EhcPlanIssued,
    EhcPlanReviewed,
    InboundEvent,
    PlacementRequested,
    age_on,
)
from shared.contracts.placements_v1 import (
    PlacementSource,
    PlacementStatus,
    ReviewOutcome,
    UpliftDecision,
)
from shared.pseudonym import PSEUDONYM_PREFIX as PSEUDONYM_PREFIX
from shared.pseudonym import pseudonym as pseudonym

# --- configured limits (module constants so tests and settings can refer to them) ---------

MAX_WEEKLY_CORE_FEE = Decimal("20000.00")  # above this a weekly core fee is a keying error
MAX_WEEKLY_SUPPORT_ITEM = Decimal("10000.00")  # per support item, per week
MAX_ONE_OFF_CHARGE = Decimal("100000.00")  # per one-off charge (e.g. equipment, adaptation)
MAX_NOTICE_PERIOD_WEEKS = 52
MAX_BLOCK_PLACES = 500
# 38 or 52 weeks a year: the shared contract constant procurement refuses other bids by.
WEEKS_PER_YEAR_OPTIONS = procurement_v1.CONTRACTABLE_WEEKS_PER_YEAR
# Above the cap an uplift needs a reason. The cap is cumulative: all uplifts effective
# within any 12 months, compounded, count against it however they are split (issue 12;
# the council's fee-uplift policy, a contract term: not a statutory figure).
UPLIFT_CAP_PERCENT = Decimal("3")
UPLIFT_CAP_WINDOW_YEARS = 1  # the cap applies to any 12 months
MAX_UPLIFT_PERCENT = Decimal("50")  # above this a request is refused as absurd
RENEWAL_LEAD_WEEKS = 4  # ask for a renewal decision this long before notice must be given
REVIEW_REMINDER_WEEKS = (6, 2)  # reminders this many weeks before a review is due
REVIEW_WINDOW_WEEKS = 6  # an outcome may be recorded from this long before the due date
# Children and Families Act 2014 s.44(1): the plan is reviewed "in the period of 12 months
# starting with the date on which the plan was first made" and then "in each subsequent
# period of 12 months starting with the date on which the plan was last reviewed". A period
# "starting with" a day includes that day, so it ends the day before the anniversary.
STATUTORY_REVIEW_PERIOD_YEARS = 1
PENNY = Decimal("0.01")


class DomainError(errors.DomainError):
    """A business rule refused a change: ``field`` and ``rule`` (a stable snake_case code)
    name what and why, ``message`` says it in words. The shared API handler answers 422."""

    def __init__(self, field: str, rule: str, message: str | None = None) -> None:
        super().__init__(field, rule)
        self.message = message or rule
        self.args = (self.message,)

    def __str__(self) -> str:
        return f"{self.field}: {self.message} [{self.rule}]"

    def __repr__(self) -> str:
        return f"DomainError(field={self.field!r}, rule={self.rule!r}, message={self.message!r})"

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form for a 422 body: field, rule and message."""
        return {"field": self.field, "rule": self.rule, "message": self.message}


def _require(condition: bool, field: str, rule: str, message: str) -> None:
    if not condition:
        raise DomainError(field, rule, message)


def _require_text(value: str, field: str) -> None:
    _require(bool(value and value.strip()), field, "required", f"{field} is required")


def _require_aware(at: datetime, field: str = "at") -> None:
    # Event times from different councils and services are only comparable with a zone.
    _require(at.tzinfo is not None, field, "timezone_required", f"{field} must carry a timezone")


def add_weeks(d: date, weeks: int) -> date:
    """Calendar weeks (placements use calendar weeks, not working days)."""
    return d + timedelta(weeks=weeks)


def add_years(d: date, years: int) -> date:
    """Same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def add_months(d: date, months: int) -> date:
    """Same day ``months`` later (or earlier); a day past the month's end becomes its last."""
    year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(year, month0 + 1, min(d.day, calendar.monthrange(year, month0 + 1)[1]))


def statutory_review_latest(last_held_or_made: date) -> date:
    """Last day the next EHC plan review may lawfully be held: the end of the period of 12
    months starting with the day the plan was last reviewed (or first made), i.e. the day
    before its anniversary (CFA 2014 s.44(1))."""
    return add_years(last_held_or_made, STATUTORY_REVIEW_PERIOD_YEARS) - timedelta(days=1)


# ==========================================================================================
# Financial years and fee maths
# ==========================================================================================


def financial_year_of(d: date) -> int:
    """Financial year label of a date: 2025 means 1 April 2025 to 31 March 2026."""
    return d.year if d.month >= 4 else d.year - 1


def financial_year_start(fy: int) -> date:
    """First day (1 April) of financial year ``fy``."""
    return date(fy, 4, 1)


def financial_year_end(fy: int) -> date:
    """Last day (31 March) of financial year ``fy``."""
    return date(fy + 1, 3, 31)


def financial_year_label(fy: int) -> str:
    """Council-style label, e.g. 2025 -> '2025-26'."""
    return f"{fy}-{(fy + 1) % 100:02d}"


def days_in_financial_year(fy: int) -> int:
    """365, or 366 when the year contains 29 February."""
    return (financial_year_end(fy) - financial_year_start(fy)).days + 1


@dataclass(frozen=True, slots=True)
class SupportItem:
    """One itemised piece of additional support, priced per week."""

    description: str
    weekly_amount: Decimal


@dataclass(frozen=True, slots=True)
class OneOffCharge:
    """A support charge paid once (procurement's ``one_off`` basis), never weekly.

    It falls due on the effective date of the fee-history entry that carries it (the
    placement's start for an award) and is committed to that date's financial year.
    """

    description: str
    amount: Decimal


class ChargeBasis(StrEnum):
    """How the winning bid priced a support item (procurement.v1 ``ChargeBasis``)."""

    WEEKLY = "weekly"
    ANNUAL = "annual"  # charged every year: spread over the weeks of the year
    ONE_OFF = "one_off"  # charged once: a OneOffCharge, not a weekly item


def split_support(
    items: Iterable[tuple[str, Decimal, str]], weeks_per_year: int
) -> tuple[tuple[SupportItem, ...], tuple[OneOffCharge, ...]]:
    """Priced support items of a bid (description, amount, basis) as weekly items and
    one-off charges: weekly as quoted, annual spread over the weeks of a year (to the
    penny, half-up), one-off kept whole and charged once."""
    weekly: list[SupportItem] = []
    once: list[OneOffCharge] = []
    for description, amount, basis in items:
        if ChargeBasis(basis) is ChargeBasis.ONE_OFF:
            once.append(OneOffCharge(description, amount))
        elif ChargeBasis(basis) is ChargeBasis.ANNUAL:
            per_week = (amount / weeks_per_year).quantize(PENNY, rounding=ROUND_HALF_UP)
            weekly.append(SupportItem(description, per_week))
        else:
            weekly.append(SupportItem(description, amount))
    return tuple(weekly), tuple(once)


@dataclass(frozen=True, slots=True)
class WeeklyFee:
    """The weekly fee in force: core fee plus itemised additional support."""

    core: Decimal
    support: tuple[SupportItem, ...] = ()

    @property
    def total(self) -> Decimal:
        """Core plus all support, per week."""
        return self.core + sum((item.weekly_amount for item in self.support), Decimal(0))

    def annual_cost(self, weeks_per_year: int) -> Decimal:
        """(weekly core + sum of support) x weeks per year."""
        return self.total * weeks_per_year


class FeeChangeKind(StrEnum):
    """Why a fee-history entry exists."""

    AWARD = "award"
    VARIATION = "variation"
    UPLIFT = "uplift"


@dataclass(frozen=True, slots=True)
class FeeChange:
    """One fee-history entry, effective from a date.

    An award or variation *sets* the core fee and/or the support items (``None`` = keep);
    an uplift *multiplies* the core fee in force by (1 + percent/100), rounded half-up to the
    penny. Entries apply in effective-date order (ties in recording order), so a back-dated
    uplift recorded after a later variation still composes sensibly.
    """

    effective_from: date
    kind: FeeChangeKind
    by: str
    at: datetime
    reason: str
    core: Decimal | None = None
    support: tuple[SupportItem, ...] | None = None
    uplift_percent: Decimal | None = None
    ref: str | None = None  # uplift id or variation reference
    one_off: tuple[OneOffCharge, ...] = ()  # charged once, on effective_from


def _apply_change(fee: WeeklyFee, change: FeeChange) -> WeeklyFee:
    if change.uplift_percent is not None:
        uplifted = fee.core * (100 + change.uplift_percent) / 100
        return replace(fee, core=uplifted.quantize(PENNY, rounding=ROUND_HALF_UP))
    return WeeklyFee(
        core=fee.core if change.core is None else change.core,
        support=fee.support if change.support is None else change.support,
    )


def _ordered(history: Sequence[FeeChange]) -> list[FeeChange]:
    return sorted(history, key=lambda change: change.effective_from)  # stable: keeps ties


def fee_on(history: Sequence[FeeChange], on: date) -> WeeklyFee:
    """The weekly fee in force on a date.

    The earliest entry (the award) is the base even before its effective date, so a
    placement always has a fee to quote.
    """
    fee = WeeklyFee(core=Decimal(0))
    for index, change in enumerate(_ordered(history)):
        if index == 0 or change.effective_from <= on:
            fee = _apply_change(fee, change)
    return fee


@dataclass(frozen=True, slots=True)
class FeePeriod:
    """A run of days (both inclusive) over which one weekly fee applies."""

    first_day: date
    last_day: date
    fee: WeeklyFee


def fee_periods(history: Sequence[FeeChange], first_day: date, last_day: date) -> list[FeePeriod]:
    """Split [first_day, last_day] wherever the fee history changes the fee."""
    if last_day < first_day:
        return []
    boundaries = sorted(
        {c.effective_from for c in history if first_day < c.effective_from <= last_day}
    )
    starts = [first_day, *boundaries]
    ends = [b - timedelta(days=1) for b in boundaries] + [last_day]
    return [FeePeriod(s, e, fee_on(history, s)) for s, e in zip(starts, ends, strict=True)]


def _split_by_financial_year(first_day: date, last_day: date) -> list[tuple[int, int]]:
    """(financial year, days covered) for each financial year the period touches."""
    parts: list[tuple[int, int]] = []
    cursor = first_day
    while cursor <= last_day:
        fy = financial_year_of(cursor)
        stop = min(last_day, financial_year_end(fy))
        parts.append((fy, (stop - cursor).days + 1))
        cursor = stop + timedelta(days=1)
    return parts


def exact_cost_by_financial_year(
    periods: Iterable[FeePeriod], weeks_per_year: int
) -> dict[int, Fraction]:
    """Unrounded cost per financial year.

    Apportionment convention: the annual cost (weekly total x weeks per year) is spread
    evenly over the days of the financial year, so a period covering ``d`` days of a year
    with ``D`` days costs annual x d / D. A whole financial year therefore costs exactly the
    annual cost. For 38-week placements this equals weekly fee x 38/52 per calendar week:
    term dates are not modelled, which matches equal-instalment payment and keeps the
    figure defensible for budgets.
    """
    exact: dict[int, Fraction] = {}
    for period in periods:
        annual = Fraction(period.fee.annual_cost(weeks_per_year))
        for fy, days in _split_by_financial_year(period.first_day, period.last_day):
            share = annual * days / days_in_financial_year(fy)
            exact[fy] = exact.get(fy, Fraction(0)) + share
    return exact


def _pennies_half_up(amount: Fraction) -> int:
    return math.floor(amount * 100 + Fraction(1, 2))


def _from_pennies(pennies: int) -> Decimal:
    return (Decimal(pennies) / 100).quantize(PENNY)


def round_preserving_total(exact: Mapping[int, Fraction]) -> dict[int, Decimal]:
    """Round per-year amounts to pennies so they add up to the rounded total.

    Rounding rule: the total is rounded half-up to the penny; each year is first rounded
    down, then the pennies left over go one each to the years with the largest remainders
    (ties to the earliest year). Amounts are never negative when inputs are not.
    """
    years = sorted(exact)
    floors = {fy: math.floor(exact[fy] * 100) for fy in years}
    leftover = _pennies_half_up(sum(exact.values(), Fraction(0))) - sum(floors.values())
    by_remainder = sorted(years, key=lambda fy: (-(exact[fy] * 100 - floors[fy]), fy))
    for fy in by_remainder[:leftover]:
        floors[fy] += 1
    return {fy: _from_pennies(floors[fy]) for fy in years}


def one_off_cost_by_financial_year(
    history: Sequence[FeeChange], first_day: date, last_day: date
) -> dict[int, Fraction]:
    """One-off charges falling due in [first_day, last_day], each once, in the financial
    year of its entry's effective date (never spread over weeks or repeated yearly)."""
    exact: dict[int, Fraction] = {}
    for change in history:
        if change.one_off and first_day <= change.effective_from <= last_day:
            fy = financial_year_of(change.effective_from)
            total = sum((Fraction(c.amount) for c in change.one_off), Fraction(0))
            exact[fy] = exact.get(fy, Fraction(0)) + total
    return exact


def apportion_by_financial_year(
    history: Sequence[FeeChange], first_day: date, last_day: date, weeks_per_year: int
) -> dict[int, Decimal]:
    """Committed cost of [first_day, last_day] (inclusive) per financial year, in pounds:
    the weekly fee apportioned over the days, plus one-off charges once each."""
    periods = fee_periods(history, first_day, last_day)
    exact = exact_cost_by_financial_year(periods, weeks_per_year)
    for fy, amount in one_off_cost_by_financial_year(history, first_day, last_day).items():
        exact[fy] = exact.get(fy, Fraction(0)) + amount
    return round_preserving_total(exact)


# ==========================================================================================
# EHC plan records (inbound ehc.plans.v1) with out-of-order protection
# ==========================================================================================

PLAN_FIELDS = (
    "la_code",
    "date_of_birth",
    "year_group",
    "primary_need",
    "secondary_needs",
    "attendance",
    "postcode_district",
    "issued_on",
    "next_review_due",
    "last_reviewed_on",
    "ceased_on",
)


@dataclass(frozen=True, slots=True)
class ChildPlan:
    """What commissioning holds about one child's EHC plan (no names, by design).

    ``field_times`` records, per field, the event ``time`` of the value held: the
    out-of-order protection compares against it field by field.
    """

    child_ref: str
    la_code: str | None = None
    date_of_birth: date | None = None
    year_group: int | None = None
    primary_need: NeedType | None = None
    secondary_needs: tuple[NeedType, ...] = ()
    attendance: Attendance | None = None
    postcode_district: str | None = None
    issued_on: date | None = None
    next_review_due: date | None = None
    last_reviewed_on: date | None = None
    ceased_on: date | None = None
    field_times: Mapping[str, datetime] = field(default_factory=dict)

    @property
    def is_ceased(self) -> bool:
        """The council no longer maintains the plan."""
        return self.ceased_on is not None

    @property
    def review_statutory_latest(self) -> date | None:
        """Latest lawful date of the next review: 12 months from the review last held, or
        from the plan's issue when none is known (CFA 2014 s.44(1))."""
        held = self.last_reviewed_on or self.issued_on
        return None if held is None else statutory_review_latest(held)

    @property
    def next_review_beyond_limit(self) -> bool:
        """The council's ``next_review_due`` is later than the law allows: accepted as the
        council's date, but flagged for monitoring."""
        latest = self.review_statutory_latest
        return bool(latest and self.next_review_due and self.next_review_due > latest)


@dataclass(frozen=True, slots=True)
class PlanChange:
    """Result of applying one EHC event: the new record and what it did."""

    plan: ChildPlan
    applied: tuple[str, ...]
    stale: tuple[str, ...]  # fields not applied because newer data is already held
    ceased: bool  # this event ceased the plan: end the child's placements
    next_review_moved: bool  # reschedule placement reviews


def _profile_values(event: EhcPlanIssued | PlacementRequested) -> dict[str, Any]:
    values: dict[str, Any] = {
        "la_code": event.la_code,
        "primary_need": event.primary_need,
        "secondary_needs": event.secondary_needs,
        "date_of_birth": event.date_of_birth,
        "year_group": event.year_group,
        "attendance": event.attendance,
        "postcode_district": event.postcode_district,
        "issued_on": event.ehc_plan.issued_on,
        "next_review_due": event.ehc_plan.next_review_due,
    }
    # Absent optional details do not erase details we already hold.
    return {k: v for k, v in values.items() if v is not None}


def _amended_values(event: EhcPlanAmended) -> dict[str, Any]:
    sent = event.model_fields_set - {"child_ref", "ehc_plan"}
    values = {name: getattr(event, name) for name in sent if getattr(event, name) is not None}
    if event.ehc_plan is not None:
        values["issued_on"] = event.ehc_plan.issued_on
        values["next_review_due"] = event.ehc_plan.next_review_due
    return values


def plan_values(event: InboundEvent) -> dict[str, Any]:
    """The plan fields an inbound event sets."""
    if isinstance(event, EhcPlanIssued):
        return {**_profile_values(event), "ceased_on": None}  # (re)issuing reopens the plan
    if isinstance(event, PlacementRequested):
        return _profile_values(event)
    if isinstance(event, EhcPlanAmended):
        return _amended_values(event)
    if isinstance(event, EhcPlanReviewed):
        return {"last_reviewed_on": event.reviewed_on, "next_review_due": event.next_review_due}
    if isinstance(event, EhcPlanCeased):
        return {"ceased_on": event.ceased_on}
    raise TypeError(f"not an ehc.plans.v1 payload: {type(event).__name__}")


def apply_plan_event(
    plan: ChildPlan | None, event: InboundEvent, event_time: datetime
) -> PlanChange:
    """Apply an ``ehc.plans.v1`` event to a child's plan record.

    Out-of-order protection, decided by the envelope's ``time`` (when the council system
    made the change, not when we received it), field by field: a value is applied only if
    ``event_time`` is at or after the time of the value held for that field. So an old
    amendment arriving late cannot overwrite newer data, yet still fills fields nobody has
    changed since. Equal times apply (a key keeps one child's events in order on a
    partition, so the later-delivered one is the later-published one; redelivery of the
    same event writes the same values).
    """
    _require_aware(event_time, "time")
    current = plan or ChildPlan(child_ref=event.child_ref)
    _require(
        current.child_ref == event.child_ref,
        "child_ref",
        "child_ref_mismatch",
        "event is for a different child",
    )
    applied: dict[str, Any] = {}
    stale: list[str] = []
    for name, value in plan_values(event).items():
        held_time = current.field_times.get(name)
        if held_time is None or event_time >= held_time:
            applied[name] = value
        else:
            stale.append(name)
    times = {**current.field_times, **dict.fromkeys(applied, event_time)}
    updated = replace(current, field_times=times, **applied)
    return PlanChange(
        plan=updated,
        applied=tuple(applied),
        stale=tuple(stale),
        ceased=applied.get("ceased_on") is not None and not current.is_ceased,
        next_review_moved="next_review_due" in applied
        and applied["next_review_due"] != current.next_review_due,
    )


# ==========================================================================================
# Placement needs and block contract places
# ==========================================================================================


class NeedStatus(StrEnum):
    """Where a placement need stands."""

    OPEN = "open"
    BLOCK_PLACE_OFFERED = "block_place_offered"
    WITH_PROCUREMENT = "with_procurement"  # placement.need.raised published: call-off
    PLACED = "placed"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class PlacementNeed:
    """A panel-agreed need for an NMISS placement for one child."""

    need_id: str
    child_ref: str
    la_code: str
    primary_need: NeedType
    secondary_needs: tuple[NeedType, ...]
    date_of_birth: date | None
    year_group: int | None
    attendance: Attendance
    postcode_district: str | None
    required_start: date
    max_distance_km: float | None
    urgent: bool
    next_review_due: date
    raised_at: datetime
    status: NeedStatus = NeedStatus.OPEN
    status_reason: str | None = None
    block_contract_id: str | None = None
    place_number: int | None = None
    phase_transfer_deadline: date | None = None

    @property
    def age_at_start(self) -> int | None:
        """Age in years on the required start date, when the date of birth is known."""
        return (
            None if self.date_of_birth is None else age_on(self.date_of_birth, self.required_start)
        )

    @property
    def is_closed(self) -> bool:
        """Placed or withdrawn: nothing more will be bought for it."""
        return self.status in (NeedStatus.PLACED, NeedStatus.WITHDRAWN)

    @property
    def year_group_at_start(self) -> int | None:
        """National curriculum year at the required start: from the date of birth when
        known, else the year group the council sent (taken as the year at the start)."""
        if self.date_of_birth is None:
            return self.year_group
        return year_group_on(self.date_of_birth, self.required_start)


def year_group_on(date_of_birth: date, on: date) -> int:
    """National curriculum year (R=0) of a child on a date: the age on the 31 August
    before the school year, less 4 (reception is the September after the 4th birthday;
    the convention of the DfE school census)."""
    school_year = on.year if on.month >= 9 else on.year - 1
    return age_on(date_of_birth, date(school_year, 8, 31)) - 4


# --- phase transfers (SEND Regulations 2014 reg 18) ---------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseTransferDeadline:
    """The day by which the EHC plan must name the next school, for one kind of transfer."""

    kind: str
    month: int | None  # a fixed day in the calendar year of the transfer ...
    day: int | None
    months_before: int | None  # ... or this many months before the transfer
    source: str


POST_16_YEAR_GROUP = 12  # year 12: the first year after secondary school
PHASE_TRANSFER_DEADLINES: Mapping[str, PhaseTransferDeadline] = {
    "school": PhaseTransferDeadline(
        "school",
        2,
        15,
        None,
        "SEND Regulations 2014 reg 18(1) (as amended): 15 February in the calendar year of "
        "the transfer (early years to school, infant to junior, primary to middle or "
        "secondary, middle to secondary; reg 2(1) 'transfer between phases of education')",
    ),
    "post16": PhaseTransferDeadline(
        "post16",
        3,
        31,
        None,
        "SEND Regulations 2014 reg 18(1) (as amended): 31 March in the calendar year of "
        "the transfer from secondary school to a post-16 institution",
    ),
    "between_post16": PhaseTransferDeadline(
        "between_post16",
        None,
        None,
        5,
        "SEND Regulations 2014 reg 18 (as amended): at least five months before a young "
        "person moves from one post-16 institution to another",
    ),
}


def phase_transfer_kind(year_group_at_start: int | None) -> str:
    """Which reg 18 deadline applies: by the year group the child starts in (year 12 is
    the move to post-16; later years move between post-16 institutions). Without a year
    group the earliest deadline (15 February) applies: the safe side for the child."""
    if year_group_at_start is None or year_group_at_start < POST_16_YEAR_GROUP:
        return "school"
    return "post16" if year_group_at_start == POST_16_YEAR_GROUP else "between_post16"


def phase_transfer_deadline(required_start: date, year_group_at_start: int | None) -> date:
    """The day the school must be named by for a phase transfer starting on
    ``required_start``. A transfer starting before the statutory day of its own calendar
    year (e.g. in January) must be named before it starts: the start then is the deadline."""
    rule = PHASE_TRANSFER_DEADLINES[phase_transfer_kind(year_group_at_start)]
    if rule.months_before is not None:
        return add_months(required_start, -rule.months_before)
    assert rule.month is not None and rule.day is not None
    return min(date(required_start.year, rule.month, rule.day), required_start)


# --- search origin (UK GDPR Art. 5(1)(c): procurement gets no postcode district) -----------

# Distances for screening are measured from the child's district centroid snapped to the
# centre of its 5 km National Grid cell: procurement learns roughly where (a 25 km2 cell,
# the same for every child whose district centroid lies in it), never the district. A
# distance from
# the cell centre differs from one from the centroid by at most 5000*sqrt(2)/2 m = 3.54 km.
SEARCH_CELL_M = 5000


def search_origin(postcode_district: str | None) -> events.SearchOrigin | None:
    """The coarse grid cell to measure distances from; None for an unknown district."""
    grid = geography.district_grid(postcode_district) if postcode_district else None
    if grid is None:
        return None
    easting, northing = geography.grid_cell_centre(*grid, SEARCH_CELL_M)
    return events.SearchOrigin(easting=easting, northing=northing, cell_m=SEARCH_CELL_M)


# --- retention (UK GDPR Art. 5(1)(e); DPA 2018 Sch 1 para 39: retention and erasure) ------

# What is dropped from a closed need, an ended placement's events and a ceased plan; the
# child reference itself is replaced by its pseudonym (docs/data-inventory.md).
DROPPED_CHILD_FIELDS = ("date_of_birth", "postcode_district", "search_origin")


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Child data of what closed before this instant is pseudonymised."""
    _require_aware(now, "now")
    _require(retention_days >= 1, "retention_days", "out_of_range", "at least 1 day")
    return now - timedelta(days=retention_days)


def pseudonymised_event_data(data: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """An outbound event's ``data`` as kept after retention: the child reference
    pseudonymised, the dropped child fields emptied, everything else as it was."""
    kept = dict(data)
    if isinstance(kept.get("child_ref"), str):
        kept["child_ref"] = pseudonym(kept["child_ref"], key)
    for name in DROPPED_CHILD_FIELDS:
        if name in kept:
            kept[name] = None
    return kept


def raise_need(request: PlacementRequested, need_id: str, raised_at: datetime) -> PlacementNeed:
    """A placement need from ``ehc.placement.requested`` (ids are passed in to stay pure)."""
    _require_aware(raised_at, "raised_at")
    need = _need_from_request(request, need_id, raised_at)
    if not request.phase_transfer:
        return need
    deadline = phase_transfer_deadline(need.required_start, need.year_group_at_start)
    return replace(need, phase_transfer_deadline=deadline)


def _need_from_request(
    request: PlacementRequested, need_id: str, raised_at: datetime
) -> PlacementNeed:
    return PlacementNeed(
        need_id=need_id,
        child_ref=request.child_ref,
        la_code=request.la_code,
        primary_need=request.primary_need,
        secondary_needs=request.secondary_needs,
        date_of_birth=request.date_of_birth,
        year_group=request.year_group,
        attendance=request.attendance,
        postcode_district=request.postcode_district,
        required_start=request.required_start,
        max_distance_km=request.max_distance_km,
        urgent=request.urgent,
        next_review_due=request.ehc_plan.next_review_due,
        raised_at=raised_at,
    )


@dataclass(frozen=True, slots=True)
class BlockContract:
    """N places bought for a term from one provider, in one category (need + attendance).

    ``occupants[i]`` is the need or placement id holding place ``i + 1``, or ``None``.
    """

    block_contract_id: str
    provider_id: str
    primary_need: NeedType
    attendance: Attendance
    term_start: date
    term_end: date
    weekly_fee_per_place: Decimal
    notice_period_weeks: int
    occupants: tuple[str | None, ...]
    competition_ref: str | None = None
    # Every priced item of the winning bid, per place (kept from the award, never dropped).
    support: tuple[SupportItem, ...] = ()
    one_off_charges: tuple[OneOffCharge, ...] = ()  # per place, charged once at term start
    weeks_per_year: int | None = None  # None (older blocks): from the attendance

    @property
    def place_weeks(self) -> int:
        """Weeks a year each place is paid for: the award's, else by attendance (38/52)."""
        return self.weeks_per_year or block_place_weeks_per_year(self.attendance)

    @property
    def place_fee(self) -> WeeklyFee:
        """Weekly fee of one place: core plus its weekly support items."""
        return WeeklyFee(core=self.weekly_fee_per_place, support=self.support)

    @property
    def places(self) -> int:
        """Number of places bought."""
        return len(self.occupants)

    @property
    def places_filled(self) -> int:
        """Places currently held."""
        return sum(1 for occupant in self.occupants if occupant is not None)

    @property
    def free_place_numbers(self) -> tuple[int, ...]:
        """Numbers (from 1) of the free places."""
        return tuple(i + 1 for i, occupant in enumerate(self.occupants) if occupant is None)


@dataclass(frozen=True, slots=True)
class BlockPlaceDecision:
    """Which block place to offer for a need, or none, and why (kept for audit)."""

    block_contract_id: str | None
    place_number: int | None
    provider_id: str | None
    reason: str
    considered: tuple[str, ...] = ()  # one line per block looked at

    @property
    def offered(self) -> bool:
        """A place was found."""
        return self.block_contract_id is not None


def _block_refusal(
    block: BlockContract, need: PlacementNeed, distances_km: Mapping[str, float] | None
) -> str | None:
    """Why a block cannot take the need, or None if it can."""
    if (block.primary_need, block.attendance) != (need.primary_need, need.attendance):
        return "different category"
    if not block.term_start <= need.required_start <= block.term_end:
        return "term does not cover the required start"
    if not block.free_place_numbers:
        return "no free place"
    if distances_km is not None and need.max_distance_km is not None:
        distance = distances_km.get(block.provider_id)
        if distance is None:
            return "provider distance unknown"
        if distance > need.max_distance_km:
            return f"provider {distance:.1f} km away, limit {need.max_distance_km:g} km"
    return None


def choose_block_place(
    need: PlacementNeed,
    blocks: Iterable[BlockContract],
    distances_km: Mapping[str, float] | None = None,
) -> BlockPlaceDecision:
    """Offer a block contract place first, when one of the right category is free.

    Right category = same primary need and attendance, term covering the required start,
    a free place, and (when ``distances_km`` by provider id is given) within the need's
    maximum distance. Among several, the block whose term runs longest wins, so the child
    is least likely to move when it ends; ties by block id; the lowest free place number.
    """
    considered: list[str] = []
    candidates: list[BlockContract] = []
    for block in sorted(blocks, key=lambda b: b.block_contract_id):
        refusal = _block_refusal(block, need, distances_km)
        considered.append(f"{block.block_contract_id}: {refusal or 'suitable'}")
        if refusal is None:
            candidates.append(block)
    category = f"{need.primary_need.value}/{need.attendance.value}"
    if not candidates:
        reason = f"no block contract place free for {category}"
        return BlockPlaceDecision(None, None, None, reason, tuple(considered))
    best = min(candidates, key=lambda b: (-b.term_end.toordinal(), b.block_contract_id))
    place = best.free_place_numbers[0]
    reason = f"block contract {best.block_contract_id} place {place} free for {category}"
    return BlockPlaceDecision(
        best.block_contract_id, place, best.provider_id, reason, tuple(considered)
    )


def apply_block_decision(need: PlacementNeed, decision: BlockPlaceDecision) -> PlacementNeed:
    """Record the decision on the need: block place offered, or over to procurement."""
    _require(need.status == NeedStatus.OPEN, "status", "need_not_open", "need is not open")
    if decision.offered:
        return replace(
            need,
            status=NeedStatus.BLOCK_PLACE_OFFERED,
            status_reason=decision.reason,
            block_contract_id=decision.block_contract_id,
            place_number=decision.place_number,
        )
    return replace(need, status=NeedStatus.WITH_PROCUREMENT, status_reason=decision.reason)


def refer_to_procurement(need: PlacementNeed, reason: str) -> PlacementNeed:
    """Send a need to a call-off, e.g. after a block place offer was declined."""
    _require_text(reason, "reason")
    _require(
        need.status in (NeedStatus.OPEN, NeedStatus.BLOCK_PLACE_OFFERED),
        "status",
        "need_not_open",
        f"cannot refer a need that is {need.status.value}",
    )
    return replace(
        need,
        status=NeedStatus.WITH_PROCUREMENT,
        status_reason=reason,
        block_contract_id=None,
        place_number=None,
    )


def mark_need_placed(need: PlacementNeed) -> PlacementNeed:
    """The need was met by a placement."""
    _require(
        need.status not in (NeedStatus.PLACED, NeedStatus.WITHDRAWN),
        "status",
        "need_closed",
        f"need is already {need.status.value}",
    )
    return replace(need, status=NeedStatus.PLACED)


def withdraw_need(need: PlacementNeed, reason: str) -> PlacementNeed:
    """Withdraw a need that is not yet placed (e.g. the EHC plan ceased)."""
    _require_text(reason, "reason")
    _require(
        need.status not in (NeedStatus.PLACED, NeedStatus.WITHDRAWN),
        "status",
        "need_closed",
        f"need is already {need.status.value}",
    )
    return replace(need, status=NeedStatus.WITHDRAWN, status_reason=reason)


def block_place_weeks_per_year(attendance: Attendance) -> int:
    """Weeks a year a block place is used: 52 for 52-week residential, else 38."""
    return 52 if attendance == Attendance.RESIDENTIAL_52 else 38


def _require_offer_of(need: PlacementNeed, block: BlockContract) -> int:
    _require(
        need.status == NeedStatus.BLOCK_PLACE_OFFERED,
        "status",
        "no_block_offer",
        f"need is {need.status.value}, not offered a block place",
    )
    _require(
        need.block_contract_id == block.block_contract_id,
        "block_contract_id",
        "offer_of_other_block",
        "the offer was of another block contract",
    )
    number = place_held_by(block, need.need_id)
    _require(number is not None, "place_number", "offered_place_lost", "offered place not held")
    assert number is not None
    return number


def accept_block_offer(
    need: PlacementNeed,
    block: BlockContract,
    placement_id: str,
    decided_on: date,
    by: str,
    at: datetime,
    next_review_due: date | None = None,
    start_date: date | None = None,
) -> tuple[PlacementNeed, Placement, BlockContract]:
    """The offered block place is accepted: an on-contract IPA (source block contract) at
    the block's fee and terms, starting on the required start (never before the decision),
    running to the block's term end; the place passes from the need to the placement."""
    _require_offer_of(need, block)
    start = start_date or max(need.required_start, decided_on)
    _require(
        start >= decided_on, "start_date", "start_before_award", "start is before the decision"
    )
    award = Award(
        child_ref=need.child_ref,
        provider_id=block.provider_id,
        source=PlacementSource.BLOCK_CONTRACT,
        primary_need=need.primary_need,
        attendance=need.attendance,
        awarded_on=decided_on,
        start_date=start,
        term_end=block.term_end,
        weekly_core_fee=block.weekly_fee_per_place,
        additional_support=block.support,
        weeks_per_year=block.place_weeks,
        notice_period_weeks=block.notice_period_weeks,
        next_review_due=next_review_due or need.next_review_due,
        need_id=need.need_id,
        block_contract_id=block.block_contract_id,
    )
    placement = create_placement(award, placement_id, by, at)
    placed = replace(need, status=NeedStatus.PLACED, status_reason=f"block place accepted by {by}")
    return placed, placement, transfer_place(block, need.need_id, placement_id)


def decline_block_offer(
    need: PlacementNeed, block: BlockContract, reason: str
) -> tuple[PlacementNeed, BlockContract, int]:
    """The offered block place is declined: the place is freed and the need goes to a
    call-off (returns the need, the block and the freed place number)."""
    _require_text(reason, "reason")
    number = _require_offer_of(need, block)
    freed, _ = free_place(block, number)
    referred = refer_to_procurement(need, f"block place declined: {reason}")
    return referred, freed, number


# --- block place offers to the provider ----------------------------------------------------

# How long a provider has to answer a block place offer, in calendar days from the offer.
# Source: Children and Families Act 2014 s.39(2)/s.40(3) (the council must consult a school
# before naming it in an EHC plan) and SEND Code of Practice 0 to 25 (2015) 9.83 (it should
# respond within 15 calendar days); a block
# place offer is that consultation for a place already bought, so it runs on the same clock.
BLOCK_OFFER_RESPONSE_DAYS = 15


class BlockOfferStatus(StrEnum):
    """Where an offer of a block place to the block's provider stands."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the council decided instead (need withdrawn, or its override)
    EXPIRED = "expired"  # shown only: open, and past its answer-by date


@dataclass(frozen=True, slots=True)
class BlockOffer:
    """A free block place offered to the block's provider for one need."""

    offer_id: str
    need_id: str
    block_contract_id: str
    place_number: int
    provider_id: str
    offered_on: date
    respond_by: date
    status: BlockOfferStatus = BlockOfferStatus.OPEN
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    placement_id: str | None = None


def new_block_offer(
    offer_id: str,
    need: PlacementNeed,
    decision: BlockPlaceDecision,
    offered_on: date,
    response_days: int = BLOCK_OFFER_RESPONSE_DAYS,
) -> BlockOffer:
    """The offer the block's provider answers, for a need given a block place."""
    _require(decision.offered, "block_contract_id", "no_place_offered", "no place was offered")
    assert decision.block_contract_id and decision.place_number and decision.provider_id
    return BlockOffer(
        offer_id=offer_id,
        need_id=need.need_id,
        block_contract_id=decision.block_contract_id,
        place_number=decision.place_number,
        provider_id=decision.provider_id,
        offered_on=offered_on,
        respond_by=offered_on + timedelta(days=response_days),
    )


def block_offer_state(offer: BlockOffer, today: date) -> BlockOfferStatus:
    """The offer's status as people see it: an open offer past its date is expired."""
    if offer.status == BlockOfferStatus.OPEN and today > offer.respond_by:
        return BlockOfferStatus.EXPIRED
    return offer.status


def require_answerable(offer: BlockOffer, today: date) -> None:
    """A provider answers an offer once, and by its answer-by date (after it the council
    decides: the commissioner declines it and the need goes to a call-off)."""
    state = block_offer_state(offer, today)
    if state == BlockOfferStatus.EXPIRED:
        raise errors.Conflict("offer_id", "offer_expired")
    if state != BlockOfferStatus.OPEN:
        raise errors.Conflict("offer_id", f"offer_{state.value}")


def settle_block_offer(
    offer: BlockOffer,
    status: BlockOfferStatus,
    by: str,
    at: datetime,
    reason: str | None = None,
    placement_id: str | None = None,
) -> BlockOffer:
    """Record the answer (or the council's decision) on an open offer."""
    _require(
        status
        in (BlockOfferStatus.ACCEPTED, BlockOfferStatus.DECLINED, BlockOfferStatus.WITHDRAWN),
        "decision",
        "not_a_decision",
        f"{status.value} is not a decision",
    )
    if status == BlockOfferStatus.DECLINED:
        _require_text(reason or "", "reason")
    return replace(
        offer, status=status, decided_by=by, decided_at=at, reason=reason, placement_id=placement_id
    )


# ==========================================================================================
# Money validation
# ==========================================================================================


def _check_money(value: Decimal, field: str, limit: Decimal, per: str = " a week") -> None:
    _require(value.is_finite(), field, "not_a_number", f"{field} must be a number")
    _require(value >= 0, field, "negative_amount", f"{field} must not be negative")
    _require(value <= limit, field, "above_limit", f"{field} above the £{limit}{per} limit")
    _require(value == value.quantize(PENNY), field, "not_whole_pence", f"{field} must be in pence")


def _check_support(items: Sequence[SupportItem], field: str = "additional_support") -> None:
    for index, item in enumerate(items):
        _require_text(item.description, f"{field}[{index}].description")
        _check_money(item.weekly_amount, f"{field}[{index}].weekly_amount", MAX_WEEKLY_SUPPORT_ITEM)


def _check_one_off(items: Sequence[OneOffCharge], field: str = "one_off_charges") -> None:
    for index, item in enumerate(items):
        _require_text(item.description, f"{field}[{index}].description")
        _check_money(item.amount, f"{field}[{index}].amount", MAX_ONE_OFF_CHARGE, per="")


# ==========================================================================================
# Individual placement agreements (IPA)
# ==========================================================================================


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

    @property
    def on_contract(self) -> bool:
        """Bought under a DPS award or block contract (spot purchases are off-contract)."""
        return self.source != PlacementSource.SPOT

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
    _require(
        award.weeks_per_year in WEEKS_PER_YEAR_OPTIONS,
        "weeks_per_year",
        "weeks_per_year_invalid",
        "weeks per year must be 38 or 52",
    )
    required_weeks = procurement_v1.WEEKS_PER_YEAR_FOR_ATTENDANCE
    _require(
        required_weeks.get(award.attendance.value, award.weeks_per_year) == award.weeks_per_year,
        "weeks_per_year",
        "weeks_per_year_mismatch_attendance",
        f"{award.attendance.value} placements are {required_weeks.get(award.attendance.value)} weeks",
    )
    _require(
        0 <= award.notice_period_weeks <= MAX_NOTICE_PERIOD_WEEKS,
        "notice_period_weeks",
        "notice_period_out_of_range",
        f"notice period must be 0 to {MAX_NOTICE_PERIOD_WEEKS} weeks",
    )
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
    )
    return _with_review(placement, first_review_due(award.next_review_due, award.start_date))


# --- status machine -----------------------------------------------------------------------

_CLOSED = {
    PlacementStatus.ENDED: "already_ended",
    PlacementStatus.TERMINATED: "already_terminated",
}


def _require_not_closed(placement: Placement) -> None:
    rule = _CLOSED.get(placement.status)
    _require(rule is None, "status", rule or "", f"placement is {placement.status.value}")


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


# ==========================================================================================
# Variations and uplifts
# ==========================================================================================


def _require_in_term(placement: Placement, effective_from: date) -> None:
    _require(
        effective_from >= placement.start_date,
        "effective_from",
        "before_start",
        "effective date is before the placement start",
    )
    last_day = placement.last_day
    _require(
        last_day is None or effective_from <= last_day,
        "effective_from",
        "after_end",
        "effective date is after the placement ends",
    )


def vary_placement(
    placement: Placement,
    effective_from: date,
    by: str,
    at: datetime,
    reason: str,
    weekly_core_fee: Decimal | None = None,
    additional_support: tuple[SupportItem, ...] | None = None,
    ref: str | None = None,
) -> Placement:
    """A variation: new core fee and/or support items from an effective date (not before start).

    ``additional_support`` replaces the whole list (pass the items that remain).
    """
    _require_not_closed(placement)
    _require_text(by, "by")
    _require_text(reason, "reason")
    _require_aware(at)
    _require_in_term(placement, effective_from)
    _require(
        weekly_core_fee is not None or additional_support is not None,
        "weekly_core_fee",
        "nothing_to_vary",
        "a variation changes the core fee or the support",
    )
    if weekly_core_fee is not None:
        _check_money(weekly_core_fee, "weekly_core_fee", MAX_WEEKLY_CORE_FEE)
    if additional_support is not None:
        _check_support(additional_support)
    change = FeeChange(
        effective_from=effective_from,
        kind=FeeChangeKind.VARIATION,
        by=by,
        at=at,
        reason=reason,
        core=weekly_core_fee,
        support=additional_support,
        ref=ref,
    )
    return replace(placement, fee_history=(*placement.fee_history, change))


@dataclass(frozen=True, slots=True)
class UpliftRequest:
    """A provider's request for a fee uplift, and the commissioner's decision."""

    uplift_id: str
    placement_id: str
    requested_percent: Decimal
    cap_percent: Decimal
    effective_from: date
    requested_by: str
    requested_at: datetime
    reason: str | None = None
    decision: UpliftDecision | None = None
    approved_percent: Decimal | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None

    # Compounded uplift over the worst 12 months containing this one (with earlier
    # approved and pending uplifts); None on rows recorded before the rule.
    cumulative_percent: Decimal | None = None

    @property
    def above_cap(self) -> bool:
        """More than the cap, alone or with the other uplifts of any 12 months containing it
        (so a reason was required)."""
        cumulative = self.cumulative_percent or self.requested_percent
        return max(cumulative, self.requested_percent) > self.cap_percent


def uplifts_counted(
    placement: Placement, others: Sequence[UpliftRequest] = ()
) -> list[tuple[date, Decimal]]:
    """(effective date, percent) of the uplifts that count against the cap: approved ones
    (from the fee history) and requests still pending; rejected ones do not count."""
    approved = [
        (c.effective_from, c.uplift_percent)
        for c in placement.fee_history
        if c.kind is FeeChangeKind.UPLIFT and c.uplift_percent is not None
    ]
    pending = [
        (u.effective_from, u.requested_percent)
        for u in others
        if u.decision is None and u.placement_id == placement.placement_id
    ]
    return approved + pending


def cumulative_uplift_percent(
    uplifts: Sequence[tuple[date, Decimal]], effective_from: date, percent: Decimal
) -> Decimal:
    """The largest compounded uplift over any 12-month window that contains a new uplift of
    ``percent`` effective ``effective_from``, with ``uplifts`` (unrounded).

    A window is [start, start + 12 months); the worst window containing the new uplift
    starts at an uplift within the 12 months before it, or at the new uplift itself.
    """
    starts = {e for e, _ in uplifts if e <= effective_from < add_years(e, UPLIFT_CAP_WINDOW_YEARS)}
    worst = percent
    for start in starts | {effective_from}:
        end = add_years(start, UPLIFT_CAP_WINDOW_YEARS)
        factor = (100 + percent) / 100
        for e, p in uplifts:
            if start <= e < end:
                factor *= (100 + p) / 100
        worst = max(worst, (factor - 1) * 100)
    return worst


def _check_percent(value: Decimal, field: str) -> None:
    _require(value.is_finite(), field, "not_a_number", f"{field} must be a number")
    _require(value > 0, field, "not_positive", f"{field} must be more than 0")
    _require(
        value <= MAX_UPLIFT_PERCENT,
        field,
        "above_limit",
        f"{field} above the {MAX_UPLIFT_PERCENT}% limit",
    )
    _require(
        value == value.quantize(PENNY), field, "too_precise", f"{field}: at most 2 decimal places"
    )


def request_uplift(
    placement: Placement,
    uplift_id: str,
    requested_percent: Decimal,
    effective_from: date,
    requested_by: str,
    requested_at: datetime,
    reason: str | None = None,
    cap_percent: Decimal = UPLIFT_CAP_PERCENT,
    others: Sequence[UpliftRequest] = (),
) -> UpliftRequest:
    """A fee uplift request; above the cap it must give a reason.

    The cap is cumulative: with the approved uplifts and the pending requests (``others``)
    of any 12 months containing this one, compounded, more than the cap needs a reason,
    however the increase is split.
    """
    _require_not_closed(placement)
    _require_text(requested_by, "requested_by")
    _require_aware(requested_at, "requested_at")
    _check_percent(requested_percent, "requested_percent")
    _require_in_term(placement, effective_from)
    counted = uplifts_counted(placement, others)
    cumulative = cumulative_uplift_percent(counted, effective_from, requested_percent)
    _require(
        cumulative <= cap_percent or bool(reason and reason.strip()),
        "reason",
        "reason_required_above_cap",
        f"uplifts within 12 months come to {cumulative.quantize(PENNY)}% compounded: "
        f"above {cap_percent}% they need a reason",
    )
    return UpliftRequest(
        uplift_id=uplift_id,
        placement_id=placement.placement_id,
        requested_percent=requested_percent,
        cap_percent=cap_percent,
        effective_from=effective_from,
        requested_by=requested_by,
        requested_at=requested_at,
        reason=reason,
        # Rounded up, so a sliver above the cap still reads as above it.
        cumulative_percent=cumulative.quantize(Decimal("0.0001"), rounding=ROUND_UP),
    )


def decide_uplift(
    placement: Placement,
    uplift: UpliftRequest,
    decision: UpliftDecision,
    decided_by: str,
    decided_at: datetime,
    reason: str | None = None,
    approved_percent: Decimal | None = None,
) -> tuple[Placement, UpliftRequest]:
    """The commissioner approves (possibly a lower %) or rejects (with a reason) an uplift.

    An approval adds a fee-history entry from the uplift's effective date; the uplift
    applies to the weekly core fee (support items are itemised and varied separately).
    """
    _require_text(decided_by, "decided_by")
    _require_aware(decided_at, "decided_at")
    _require(
        uplift.placement_id == placement.placement_id,
        "uplift_id",
        "uplift_for_other_placement",
        "uplift belongs to another placement",
    )
    _require(
        uplift.decision is None, "uplift_id", "uplift_already_decided", "uplift already decided"
    )
    decided = replace(
        uplift,
        decision=decision,
        decided_by=decided_by,
        decided_at=decided_at,
        decision_reason=reason,
    )
    if decision == UpliftDecision.REJECTED:
        _require_text(reason or "", "reason")
        return placement, decided
    _require_not_closed(placement)
    percent = uplift.requested_percent if approved_percent is None else approved_percent
    _check_percent(percent, "approved_percent")
    _require(
        percent <= uplift.requested_percent,
        "approved_percent",
        "above_requested",
        "cannot approve more than was requested",
    )
    _require_in_term(placement, uplift.effective_from)
    change = FeeChange(
        effective_from=uplift.effective_from,
        kind=FeeChangeKind.UPLIFT,
        by=decided_by,
        at=decided_at,
        reason=reason or f"uplift {uplift.uplift_id} approved",
        uplift_percent=percent,
        ref=uplift.uplift_id,
    )
    uplifted = replace(placement, fee_history=(*placement.fee_history, change))
    _check_money(
        uplifted.fee_on(uplift.effective_from).core, "approved_percent", MAX_WEEKLY_CORE_FEE
    )
    return uplifted, replace(decided, approved_percent=percent)


# ==========================================================================================
# Reviews
# ==========================================================================================


def review_reminder_dates(due_on: date) -> tuple[date, ...]:
    """Reminder dates before a review: 6 and 2 weeks before it is due."""
    return tuple(add_weeks(due_on, -weeks) for weeks in REVIEW_REMINDER_WEEKS)


def review_window_opens(due_on: date) -> date:
    """First day an outcome may be recorded (6 weeks before the due date)."""
    return add_weeks(due_on, -REVIEW_WINDOW_WEEKS)


def review_state(review: Review, today: date) -> ReviewState:
    """scheduled, due (in the window), overdue (past due, no outcome) or completed."""
    if not review.is_open:
        return ReviewState.COMPLETED
    if today > review.due_on:
        return ReviewState.OVERDUE
    if today >= review_window_opens(review.due_on):
        return ReviewState.DUE
    return ReviewState.SCHEDULED


def reminders_due(review: Review, today: date) -> tuple[int, ...]:
    """Weeks-before values (6, 2) whose reminder date has arrived for an open review."""
    if not review.is_open:
        return ()
    return tuple(w for w in REVIEW_REMINDER_WEEKS if today >= add_weeks(review.due_on, -w))


def days_overdue(review: Review, today: date) -> int:
    """Days past the due date without an outcome (0 when not overdue)."""
    if not review.is_open:
        return 0
    return max(0, (today - review.due_on).days)


def open_reviews(placement: Placement) -> tuple[Review, ...]:
    """Reviews with no outcome yet, earliest first."""
    return tuple(sorted((r for r in placement.reviews if r.is_open), key=lambda r: r.due_on))


def record_review_outcome(
    placement: Placement,
    review_id: str,
    outcome: ReviewOutcome,
    completed_on: date,
    by: str,
    at: datetime,
) -> Placement:
    """Record continue / vary / end for a review that is due.

    Refused for an unknown or already completed review, or one more than 6 weeks before
    its due date. ``continue``/``vary`` schedule the next annual review (a ``vary`` outcome
    is followed by ``vary_placement``); ``end`` gives notice on the completion date.

    The next review is due within 12 months of the review actually held (``completed_on``),
    not of the previous due date (CFA 2014 s.44(1)(b)): a late review does not buy a
    longer gap, an early one brings the next forward.
    """
    _require_text(by, "by")
    _require_aware(at)
    review = placement.review(review_id)
    _require(review.is_open, "review_id", "review_already_completed", "review already completed")
    _require(
        placement.status in (PlacementStatus.ACTIVE, PlacementStatus.ENDING),
        "status",
        "placement_not_in_force",
        f"placement is {placement.status.value}",
    )
    opens = review_window_opens(review.due_on)
    _require(
        completed_on >= opens,
        "completed_on",
        "review_not_due",
        f"review is not due: outcomes can be recorded from {opens.isoformat()}",
    )
    done = replace(review, completed_on=completed_on, outcome=outcome, recorded_by=by)
    reviews = tuple(done if r.review_id == review_id else r for r in placement.reviews)
    updated = replace(placement, reviews=reviews)
    if outcome == ReviewOutcome.END:
        if updated.status == PlacementStatus.ACTIVE:
            return give_notice(updated, completed_on, by, at, "annual review outcome: end")
        return updated
    if not any(r.is_open and r.due_on > review.due_on for r in updated.reviews):
        latest = statutory_review_latest(completed_on)
        updated = _with_review(updated, latest, latest)
    return updated


def align_reviews_to_plan(
    placement: Placement,
    next_review_due: date,
    reviewed_on: date | None = None,
    statutory_latest: date | None = None,
) -> Placement:
    """Move placement reviews when the EHC plan's next review date moves.

    From ``ehc.plan.reviewed`` (``reviewed_on`` given): an open review whose window the
    plan review fell in (or that is overdue) stays open for the commissioner's outcome; any
    other open review moves to ``next_review_due`` (keeping its id), and the review after is
    scheduled there if none is. From an amendment (no ``reviewed_on``) the open review moves.

    The council's date is accepted even when later than the law allows; the review then
    carries ``statutory_latest`` (12 months from ``reviewed_on``, or as given) and is
    flagged ``beyond_statutory_limit``.
    """
    if placement.status in _CLOSED:
        return placement
    if statutory_latest is None and reviewed_on is not None:
        statutory_latest = statutory_review_latest(reviewed_on)
    awaiting = {
        r.review_id
        for r in open_reviews(placement)
        if reviewed_on is not None and reviewed_on >= review_window_opens(r.due_on)
    }
    movable = [r for r in open_reviews(placement) if r.review_id not in awaiting]
    last_day = placement.last_day
    fits = last_day is not None and next_review_due <= last_day
    kept: list[Review] = [r for r in placement.reviews if not r.is_open or r.review_id in awaiting]
    if movable and fits:
        kept.append(replace(movable[0], due_on=next_review_due, statutory_latest=statutory_latest))
    updated = replace(placement, reviews=tuple(kept))
    if fits and not any(r.is_open and r.due_on == next_review_due for r in updated.reviews):
        updated = _with_review(updated, next_review_due, statutory_latest)
    return updated


def review_changes(before: Placement, after: Placement) -> tuple[Review, ...]:
    """Open reviews in ``after`` that are new, moved or newly flagged: publish
    placement.review.scheduled."""
    old = {r.review_id: (r.due_on, r.statutory_latest) for r in before.reviews}
    return tuple(
        r for r in open_reviews(after) if old.get(r.review_id) != (r.due_on, r.statutory_latest)
    )


# ==========================================================================================
# Renewal and notice
# ==========================================================================================


def renewal_decision_date(
    term_end: date, notice_period_weeks: int, lead_weeks: int = RENEWAL_LEAD_WEEKS
) -> date:
    """Date by which to ask for a renewal decision: term end - notice period - lead margin."""
    return add_weeks(term_end, -(notice_period_weeks + lead_weeks))


def renewal_notice_deadline(term_end: date, notice_period_weeks: int) -> date:
    """Last day notice can be given to end at term end; no decision by then is overdue."""
    return add_weeks(term_end, -notice_period_weeks)


def renew_placement(
    placement: Placement, new_term_end: date, by: str, at: datetime, reason: str
) -> Placement:
    """Extend an active placement's term (recorded as active -> active with who/when/why)."""
    _require_not_closed(placement)
    _require(
        placement.status == PlacementStatus.ACTIVE,
        "status",
        "not_active",
        f"only an active placement is renewed (it is {placement.status.value})",
    )
    _require(
        new_term_end > placement.term_end,
        "new_term_end",
        "not_after_term_end",
        "the new term end must be after the current one",
    )
    renewed = _transition(
        placement,
        PlacementStatus.ACTIVE,
        by,
        at,
        f"renewed to {new_term_end.isoformat()}: {reason}",
        term_end=new_term_end,
    )
    if not open_reviews(renewed):
        held = [r.completed_on or r.due_on for r in renewed.reviews]
        if held:  # within 12 months of the last review held (CFA 2014 s.44)
            latest = statutory_review_latest(max(held))
            renewed = _with_review(renewed, latest, latest)
    return renewed


def decline_renewal(
    placement: Placement, decided_on: date, by: str, at: datetime, reason: str
) -> Placement:
    """active -> ending at term end: the council will not renew."""
    _require_not_closed(placement)
    _require(
        placement.status == PlacementStatus.ACTIVE,
        "status",
        "not_active",
        f"placement is {placement.status.value}",
    )
    ending = _transition(
        placement,
        PlacementStatus.ENDING,
        by,
        at,
        reason,
        notice_given_on=decided_on,
        end_date=placement.term_end,
    )
    return _drop_reviews_after(ending, placement.term_end)


# ==========================================================================================
# Block contracts
# ==========================================================================================


def new_block_contract(
    block_contract_id: str,
    provider_id: str,
    primary_need: NeedType,
    attendance: Attendance,
    places: int,
    term_start: date,
    term_end: date,
    weekly_fee_per_place: Decimal,
    notice_period_weeks: int,
    competition_ref: str | None = None,
    *,
    support: tuple[SupportItem, ...] = (),
    one_off_charges: tuple[OneOffCharge, ...] = (),
    weeks_per_year: int | None = None,
) -> BlockContract:
    """A block contract with all places free, after validating it.

    ``support`` and ``one_off_charges`` are the winning bid's priced items per place;
    ``weeks_per_year`` the weeks each place is paid for (38 or 52, as for an IPA).
    """
    _require_text(provider_id, "provider_id")
    _require(
        1 <= places <= MAX_BLOCK_PLACES,
        "places",
        "places_out_of_range",
        f"a block contract has 1 to {MAX_BLOCK_PLACES} places",
    )
    _require(
        term_end > term_start,
        "term_end",
        "term_end_not_after_start",
        "term end must be after start",
    )
    _require(
        0 <= notice_period_weeks <= MAX_NOTICE_PERIOD_WEEKS,
        "notice_period_weeks",
        "notice_period_out_of_range",
        f"notice period must be 0 to {MAX_NOTICE_PERIOD_WEEKS} weeks",
    )
    _check_money(weekly_fee_per_place, "weekly_fee_per_place", MAX_WEEKLY_CORE_FEE)
    _check_support(support)
    _check_one_off(one_off_charges)
    if weeks_per_year is not None:
        _check_place_weeks(attendance, weeks_per_year)
    return BlockContract(
        block_contract_id=block_contract_id,
        provider_id=provider_id,
        primary_need=primary_need,
        attendance=attendance,
        term_start=term_start,
        term_end=term_end,
        weekly_fee_per_place=weekly_fee_per_place,
        notice_period_weeks=notice_period_weeks,
        occupants=(None,) * places,
        competition_ref=competition_ref,
        support=support,
        one_off_charges=one_off_charges,
        weeks_per_year=weeks_per_year,
    )


def _check_place_weeks(attendance: Attendance, weeks_per_year: int) -> None:
    _require(
        weeks_per_year in WEEKS_PER_YEAR_OPTIONS,
        "weeks_per_year",
        "weeks_per_year_invalid",
        "weeks per year must be 38 or 52",
    )
    fixed = {Attendance.RESIDENTIAL_38: 38, Attendance.RESIDENTIAL_52: 52}.get(attendance)
    _require(
        fixed in (None, weeks_per_year),
        "weeks_per_year",
        "weeks_per_year_mismatch_attendance",
        f"{attendance.value} places are {fixed} weeks",
    )


def fill_place(
    block: BlockContract, occupant_ref: str, place_number: int | None = None
) -> tuple[BlockContract, int]:
    """Give a place (the lowest free one unless named) to a need or placement."""
    _require_text(occupant_ref, "occupant_ref")
    _require(
        occupant_ref not in block.occupants,
        "occupant_ref",
        "already_holds_place",
        f"{occupant_ref} already holds a place",
    )
    free = block.free_place_numbers
    _require(bool(free), "place_number", "no_free_place", "the block contract is full")
    number = free[0] if place_number is None else place_number
    _require(number in free, "place_number", "place_not_free", f"place {number} is not free")
    occupants = list(block.occupants)
    occupants[number - 1] = occupant_ref
    return replace(block, occupants=tuple(occupants)), number


def free_place(block: BlockContract, place_number: int) -> tuple[BlockContract, str]:
    """Free a place; returns the block and who held it."""
    _require(
        1 <= place_number <= block.places,
        "place_number",
        "unknown_place",
        f"no place {place_number}",
    )
    occupant = block.occupants[place_number - 1]
    _require(occupant is not None, "place_number", "place_already_free", "place is already free")
    assert occupant is not None
    occupants = list(block.occupants)
    occupants[place_number - 1] = None
    return replace(block, occupants=tuple(occupants)), occupant


def place_held_by(block: BlockContract, occupant_ref: str) -> int | None:
    """Place number held by a need or placement, if any."""
    return block.occupants.index(occupant_ref) + 1 if occupant_ref in block.occupants else None


def transfer_place(block: BlockContract, from_ref: str, to_ref: str) -> BlockContract:
    """Hand a place from a need to the placement made for it."""
    number = place_held_by(block, from_ref)
    _require(number is not None, "occupant_ref", "holds_no_place", f"{from_ref} holds no place")
    assert number is not None
    occupants = list(block.occupants)
    occupants[number - 1] = to_ref
    return replace(block, occupants=tuple(occupants))


def renew_block(block: BlockContract, new_term_end: date) -> BlockContract:
    """Extend a block contract's term (its places and their occupants carry on)."""
    _require(
        new_term_end > block.term_end,
        "new_term_end",
        "not_after_term_end",
        "the new term end must be after the current one",
    )
    return replace(block, term_end=new_term_end)


def utilisation_percent(block: BlockContract) -> Decimal:
    """Filled places as a percentage of places, to 2 decimal places (half-up)."""
    percent = Decimal(block.places_filled * 100) / Decimal(block.places)
    return percent.quantize(PENNY, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Utilisation:
    """Places filled over a period: place-days filled against place-days bought."""

    period_start: date
    period_end: date  # inclusive
    places: int
    place_days: int
    filled_days: int

    @property
    def percent(self) -> Decimal:
        """Filled place-days as a percentage of place-days (0 when none were bought)."""
        if self.place_days == 0:
            return Decimal("0.00")
        percent = Decimal(self.filled_days * 100) / Decimal(self.place_days)
        return percent.quantize(PENNY, rounding=ROUND_HALF_UP)

    @property
    def average_places_filled(self) -> Decimal:
        """Places filled on an average day of the period's days within the term."""
        days = self.place_days // self.places if self.places else 0
        if days == 0:
            return Decimal("0.00")
        return (Decimal(self.filled_days) / Decimal(days)).quantize(PENNY, rounding=ROUND_HALF_UP)


def _overlap_days(a_start: date, a_end: date, b_start: date, b_end: date) -> int:
    """Days in both inclusive ranges."""
    return max(0, (min(a_end, b_end) - max(a_start, b_start)).days + 1)


def block_utilisation(
    block: BlockContract,
    occupancy: Iterable[tuple[date, date | None]],
    period_start: date,
    period_end: date,
) -> Utilisation:
    """Utilisation over a period: the days each placement in the block held its place
    (``occupancy``: start date and last day, None while it runs on) against the block's
    places for the days of its term inside the period. A place only offered (not yet
    accepted) is not filled: no child is in it."""
    _require(period_end >= period_start, "to", "period_end_before_start", "the period ends first")
    start, end = max(period_start, block.term_start), min(period_end, block.term_end)
    days = max(0, (end - start).days + 1)
    filled = sum(_overlap_days(s, e or end, start, end) for s, e in occupancy) if days else 0
    place_days = days * block.places
    return Utilisation(period_start, period_end, block.places, place_days, min(filled, place_days))


def monthly_utilisation(
    block: BlockContract,
    occupancy: Sequence[tuple[date, date | None]],
    period_start: date,
    period_end: date,
) -> list[Utilisation]:
    """Utilisation per calendar month of the period (for a chart), months outside the
    term left out."""
    months: list[Utilisation] = []
    month = period_start.replace(day=1)
    while month <= period_end:
        last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        first, final = max(month, period_start), min(last, period_end)
        if first <= block.term_end and final >= block.term_start:
            months.append(block_utilisation(block, occupancy, first, final))
        month = last + timedelta(days=1)
    return months


def weekly_cost_per_filled_place(block: BlockContract, utilisation: Decimal) -> Decimal | None:
    """What the council pays a week for each place actually used: the place's weekly fee
    (core + weekly support) scaled up by the unused share (None when nothing was used)."""
    if utilisation <= 0:
        return None
    cost = block.place_fee.total * Decimal(100) / utilisation
    return cost.quantize(PENNY, rounding=ROUND_HALF_UP)


def block_renewal_decision_date(block: BlockContract, lead_weeks: int = RENEWAL_LEAD_WEEKS) -> date:
    """Date by which to decide on renewing a block: term end - notice period - lead margin."""
    return renewal_decision_date(block.term_end, block.notice_period_weeks, lead_weeks)


def block_cost_by_financial_year(block: BlockContract) -> dict[int, Decimal]:
    """Whole-block commitment per financial year: every place, filled or not, at the place
    fee (core + weekly support) for the place's weeks a year (38 for day places, not 52),
    plus each place's one-off charges once at term start.

    Filled places also appear as placements: the ledger posts only the unfilled part
    (``block_unfilled_spend``) so that no place is counted twice.
    """
    places = block.places
    fee = FeeChange(
        effective_from=block.term_start,
        kind=FeeChangeKind.AWARD,
        by="block_contract",
        at=datetime.min,
        reason="block contract",
        core=block.weekly_fee_per_place * places,
        support=tuple(SupportItem(s.description, s.weekly_amount * places) for s in block.support),
        one_off=tuple(
            OneOffCharge(c.description, c.amount * places) for c in block.one_off_charges
        ),
    )
    return apportion_by_financial_year((fee,), block.term_start, block.term_end, block.place_weeks)


def block_unfilled_spend(
    block: BlockContract, placements_spend: Mapping[int, Decimal]
) -> dict[int, Decimal]:
    """The block's commitment not already counted by the placements in its places, per
    financial year: block cost - their committed spend, never below 0 (a placement varied
    above the block fee is its own cost). Block cost = placements + this line."""
    cost = block_cost_by_financial_year(block)
    return {
        fy: max(Decimal("0.00"), cost.get(fy, Decimal(0)) - placements_spend.get(fy, Decimal(0)))
        for fy in sorted(set(cost) | set(placements_spend))
    }


# ==========================================================================================
# Spend
# ==========================================================================================


def committed_spend_by_financial_year(placement: Placement) -> dict[int, Decimal]:
    """Committed cost of a placement per financial year, start to last day (inclusive)."""
    last_day = placement.last_day
    if last_day is None:
        return {}
    return apportion_by_financial_year(
        placement.fee_history, placement.start_date, last_day, placement.weeks_per_year
    )


@dataclass(frozen=True, slots=True)
class SpendLine:
    """One placement's committed spend in one financial year."""

    placement_id: str
    provider_id: str
    primary_need: NeedType
    source: PlacementSource
    on_contract: bool
    financial_year: int
    amount: Decimal


def spend_lines(placements: Iterable[Placement]) -> list[SpendLine]:
    """Committed spend per placement per financial year."""
    return [
        SpendLine(
            placement_id=p.placement_id,
            provider_id=p.provider_id,
            primary_need=p.primary_need,
            source=p.source,
            on_contract=p.on_contract,
            financial_year=fy,
            amount=amount,
        )
        for p in placements
        for fy, amount in committed_spend_by_financial_year(p).items()
    ]


@dataclass(frozen=True, slots=True)
class SpendSummary:
    """Committed spend totals for dashboards: per year, need type, provider, contract."""

    total: Decimal
    on_contract: Decimal
    off_contract: Decimal
    by_financial_year: dict[int, Decimal]
    by_need_type: dict[NeedType, Decimal]
    by_provider: dict[str, Decimal]
    placements_by_need_type: dict[NeedType, int]

    @property
    def on_contract_share_percent(self) -> Decimal | None:
        """On-contract spend as a % of all spend (2 dp, half-up); None when nothing is spent."""
        if self.total == 0:
            return None
        return (self.on_contract * 100 / self.total).quantize(PENNY, rounding=ROUND_HALF_UP)

    def average_cost_by_need_type(self) -> dict[NeedType, Decimal]:
        """Mean committed spend per placement for each need type (2 dp, half-up)."""
        return {
            need: (amount / self.placements_by_need_type[need]).quantize(PENNY, ROUND_HALF_UP)
            for need, amount in self.by_need_type.items()
        }


def _add(totals: dict[Any, Decimal], key: Any, amount: Decimal) -> None:
    totals[key] = totals.get(key, Decimal("0.00")) + amount


def summarise_spend(
    placements: Iterable[Placement], financial_year: int | None = None
) -> SpendSummary:
    """Committed spend across placements, optionally for one financial year only.

    On-contract = bought under a DPS award or a block contract; off-contract = spot.
    """
    by_fy: dict[int, Decimal] = {}
    by_need: dict[NeedType, Decimal] = {}
    by_provider: dict[str, Decimal] = {}
    counted: dict[NeedType, set[str]] = {}
    on = off = Decimal("0.00")
    for line in spend_lines(placements):
        if financial_year is not None and line.financial_year != financial_year:
            continue
        _add(by_fy, line.financial_year, line.amount)
        _add(by_need, line.primary_need, line.amount)
        _add(by_provider, line.provider_id, line.amount)
        counted.setdefault(line.primary_need, set()).add(line.placement_id)
        if line.on_contract:
            on += line.amount
        else:
            off += line.amount
    return SpendSummary(
        total=on + off,
        on_contract=on,
        off_contract=off,
        by_financial_year=dict(sorted(by_fy.items())),
        by_need_type=by_need,
        by_provider=by_provider,
        placements_by_need_type={need: len(ids) for need, ids in counted.items()},
    )


# ==========================================================================================
# Event payload builders (placements.v1)
# ==========================================================================================


def fee_terms(placement: Placement, on: date) -> events.FeeTerms:
    """Fee terms in force on a date, as carried by created/varied/uplift events."""
    fee = placement.fee_on(on)
    return events.FeeTerms(
        effective_from=on,
        weekly_core_fee=fee.core,
        additional_support=tuple(
            events.SupportItem(description=s.description, weekly_amount=s.weekly_amount)
            for s in fee.support
        ),
        weekly_total=fee.total,
        annual_cost=fee.annual_cost(placement.weeks_per_year),
        one_off_charges=tuple(
            events.OneOffCharge(description=c.description, amount=c.amount)
            for change in placement.fee_history
            if change.effective_from == on
            for c in change.one_off
        ),
    )


def contract_created_event(placement: Placement) -> events.PlacementContractCreated:
    """``placement.contract.created`` for a newly built IPA."""
    first_review = open_reviews(placement)
    return events.PlacementContractCreated(
        placement_id=placement.placement_id,
        need_id=placement.need_id,
        child_ref=placement.child_ref,
        provider_id=placement.provider_id,
        source=placement.source,
        on_contract=placement.on_contract,
        scheme_ref=placement.scheme_ref,
        competition_ref=placement.competition_ref,
        block_contract_id=placement.block_contract_id,
        primary_need=placement.primary_need,
        attendance=placement.attendance,
        awarded_on=placement.awarded_on,
        start_date=placement.start_date,
        term_end=placement.term_end,
        weeks_per_year=placement.weeks_per_year,
        notice_period_weeks=placement.notice_period_weeks,
        fee=fee_terms(placement, placement.start_date),
        first_review_due=first_review[0].due_on if first_review else None,
    )


def review_scheduled_event(placement: Placement, review: Review) -> events.PlacementReviewScheduled:
    """``placement.review.scheduled`` for a review from ``review_changes``."""
    return events.PlacementReviewScheduled(
        placement_id=placement.placement_id,
        review_id=review.review_id,
        child_ref=placement.child_ref,
        provider_id=placement.provider_id,
        due_on=review.due_on,
        reminders_on=review_reminder_dates(review.due_on),
        statutory_latest=review.statutory_latest,
        beyond_statutory_limit=review.beyond_statutory_limit,
    )


def block_offer_event(
    need: PlacementNeed, decision: BlockPlaceDecision
) -> events.PlacementNeedOfferedBlockPlace:
    """``placement.need.offered_block_place`` for an offered decision."""
    _require(decision.offered, "block_contract_id", "no_place_offered", "no place was offered")
    assert decision.block_contract_id and decision.place_number and decision.provider_id
    return events.PlacementNeedOfferedBlockPlace(
        need_id=need.need_id,
        child_ref=need.child_ref,
        block_contract_id=decision.block_contract_id,
        place_number=decision.place_number,
        provider_id=decision.provider_id,
        reason=decision.reason,
    )


def block_place_event(
    block: BlockContract, place_number: int, occupant_ref: str, filled: bool
) -> events.BlockContractPlaceFilled | events.BlockContractPlaceFreed:
    """``block_contract.place_filled`` / ``place_freed`` after ``fill_place`` / ``free_place``."""
    model = events.BlockContractPlaceFilled if filled else events.BlockContractPlaceFreed
    return model(
        block_contract_id=block.block_contract_id,
        provider_id=block.provider_id,
        place_number=place_number,
        occupant_ref=occupant_ref,
        places=block.places,
        places_filled=block.places_filled,
        utilisation_percent=utilisation_percent(block),
    )


def need_raised_event(need: PlacementNeed) -> events.PlacementNeedRaised:
    """``placement.need.raised`` for procurement to open a call-off.

    Only what a call-off needs (UK GDPR Art. 5(1)(c), data minimisation): age and year
    group at the start, a coarse search origin; never the child reference, the date of
    birth or the postcode district (docs/law/children-data.md).
    """
    return events.PlacementNeedRaised(
        need_id=need.need_id,
        la_code=need.la_code,
        primary_need=need.primary_need,
        secondary_needs=need.secondary_needs,
        year_group=need.year_group_at_start,
        age_at_start=need.age_at_start,
        attendance=need.attendance,
        search_origin=search_origin(need.postcode_district),
        required_start=need.required_start,
        max_distance_km=need.max_distance_km,
        urgent=need.urgent,
        phase_transfer_deadline=need.phase_transfer_deadline,
    )


@dataclass(frozen=True, slots=True)
class LedgerPosting:
    """What each financial year's ledger line holds after a change.

    ``adjustment`` is the part of the current year's line that corrects closed years.
    """

    amounts: dict[int, Decimal]
    current_year: int | None
    adjustment: Decimal


def post_to_ledger(
    computed: Mapping[int, Decimal], held: Mapping[int, Decimal], today: date | None
) -> LedgerPosting:
    """Post a recomputed commitment without rewriting a closed financial year.

    A year is closed once the current financial year (1 April - 31 March, as councils keep
    accounts: Local Government Act 2003 s.21 and the CIPFA Code) is later. A closed year
    that holds a posted line keeps it; the difference between what it would now cost and
    what it holds (a back-dated variation or uplift, an early end) is posted as an
    adjustment in the current year's line. Recomputed from scratch each time, so it is
    idempotent, and a credit larger than the current year's line (which is never below 0)
    is carried forward to the next year's posting. A closed year never posted before (an
    imported history) is written once. Without ``today`` nothing is frozen.
    """
    years = sorted(set(computed) | set(held))
    zero = Decimal("0.00")
    if today is None:
        return LedgerPosting({fy: computed.get(fy, zero) for fy in years}, None, zero)
    current = financial_year_of(today)
    amounts: dict[int, Decimal] = {}
    correction = zero
    for fy in years:
        if fy < current and fy in held:
            amounts[fy] = held[fy]
            correction += computed.get(fy, zero) - held[fy]
        else:
            amounts[fy] = computed.get(fy, zero)
    if correction == 0:
        return LedgerPosting(amounts, current, zero)
    own = computed.get(current, zero)
    amounts[current] = max(zero, own + correction)
    return LedgerPosting(dict(sorted(amounts.items())), current, amounts[current] - own)


def _held(previous: Iterable[int] | Mapping[int, Decimal]) -> dict[int, Decimal]:
    if isinstance(previous, Mapping):
        return dict(previous)
    return dict.fromkeys(previous, Decimal("0.00"))


def spend_committed_events(
    placement: Placement,
    previously_committed_years: Iterable[int] | Mapping[int, Decimal] = (),
    today: date | None = None,
) -> list[events.PlacementSpendCommitted]:
    """``placement.spend.committed`` snapshots, one per financial year.

    Years committed before but no longer covered (e.g. after notice) get amount 0. Given
    ``today`` and the amounts held, closed years are not rewritten (``post_to_ledger``).
    """
    held = _held(previously_committed_years)
    posting = post_to_ledger(committed_spend_by_financial_year(placement), held, today)
    return [
        events.PlacementSpendCommitted(
            placement_id=placement.placement_id,
            provider_id=placement.provider_id,
            primary_need=placement.primary_need,
            source=placement.source,
            on_contract=placement.on_contract,
            financial_year=fy,
            amount=amount,
            adjustment=_adjustment_of(posting, fy),
        )
        for fy, amount in sorted(posting.amounts.items())
    ]


def _adjustment_of(posting: LedgerPosting, fy: int) -> Decimal | None:
    return posting.adjustment if fy == posting.current_year and posting.adjustment else None


def block_spend_events(
    block: BlockContract,
    placements_spend: Mapping[int, Decimal],
    held: Mapping[int, Decimal],
    today: date | None,
) -> list[events.PlacementSpendCommitted]:
    """Ledger lines (``line = block_unfilled_places``, keyed by the block id) carrying the
    block's cost that its placements do not already count, so spend includes empty places."""
    unfilled = block_unfilled_spend(block, placements_spend)
    posting = post_to_ledger(unfilled, held, today)
    return [
        events.PlacementSpendCommitted(
            placement_id=block.block_contract_id,
            provider_id=block.provider_id,
            primary_need=block.primary_need,
            source=PlacementSource.BLOCK_CONTRACT,
            on_contract=True,
            financial_year=fy,
            amount=amount,
            line="block_unfilled_places",
            adjustment=_adjustment_of(posting, fy),
        )
        for fy, amount in sorted(posting.amounts.items())
    ]
