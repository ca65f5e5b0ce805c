"""Placements: weekly fees, their history, and the committed cost of a period by financial year."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from services.placements.domain._rules import (
    MAX_ONE_OFF_CHARGE,
    MAX_WEEKLY_SUPPORT_ITEM,
    _require,
    _require_text,
)
from shared.fiscal import (
    PENNY,
    days_in_financial_year,
    financial_year_end,
    financial_year_of,
    from_pennies,
    pennies_half_up,
)


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


def round_preserving_total(exact: Mapping[int, Fraction]) -> dict[int, Decimal]:
    """Round per-year amounts to pennies so they add up to the rounded total.

    Rounding rule: the total is rounded half-up to the penny; each year is first rounded
    down, then the pennies left over go one each to the years with the largest remainders
    (ties to the earliest year). Amounts are never negative when inputs are not.
    """
    years = sorted(exact)
    floors = {fy: math.floor(exact[fy] * 100) for fy in years}
    leftover = pennies_half_up(sum(exact.values(), Fraction(0))) - sum(floors.values())
    by_remainder = sorted(years, key=lambda fy: (-(exact[fy] * 100 - floors[fy]), fy))
    for fy in by_remainder[:leftover]:
        floors[fy] += 1
    return {fy: from_pennies(floors[fy]) for fy in years}


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
