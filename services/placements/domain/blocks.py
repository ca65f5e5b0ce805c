"""Placements: block contracts, their places, utilisation and cost."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from services.placements.domain._rules import (
    MAX_BLOCK_PLACES,
    MAX_WEEKLY_CORE_FEE,
    RENEWAL_LEAD_WEEKS,
    _check_notice_period,
    _check_weeks_per_year,
    _require,
    _require_later_term_end,
    _require_text,
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
)
from services.placements.domain.placements import (
    renewal_decision_date,
)
from shared.contracts.common import Attendance, NeedType
from shared.errors import DomainError
from shared.fiscal import (
    PENNY,
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


def block_place_weeks_per_year(attendance: Attendance) -> int:
    """Weeks a year a block place is used: 52 for 52-week residential, else 38."""
    return 52 if attendance == Attendance.RESIDENTIAL_52 else 38


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
    _check_notice_period(notice_period_weeks)
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
    _check_weeks_per_year(weeks_per_year)
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
    _require_later_term_end(new_term_end, block.term_end)
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


UTILISATION_DEFAULT_DAYS = 365  # a period not given: the year up to today
UTILISATION_MAX_PERIOD_DAYS = 366 * 10


def utilisation_period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The period a utilisation is asked over (first and last day): the end defaults to
    today, the start to a year before the end; at most ten years, and never backwards."""
    last = end or today
    first = start or last - timedelta(days=UTILISATION_DEFAULT_DAYS - 1)
    if last < first:
        raise DomainError("to", "before_from")
    if (last - first).days > UTILISATION_MAX_PERIOD_DAYS:
        raise DomainError("from", "period_over_ten_years")
    return first, last


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
