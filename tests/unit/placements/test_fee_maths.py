"""Fee maths: annual cost, fee history, financial years and apportionment to the penny."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from services.placements import domain as d

from .factories import AT, OFFICER


def _fee(core: str, effective_from: date, *support: str) -> d.FeeChange:
    return d.FeeChange(
        effective_from=effective_from,
        kind=d.FeeChangeKind.AWARD,
        by=OFFICER,
        at=AT,
        reason="test",
        core=Decimal(core),
        support=tuple(d.SupportItem(f"item {i}", Decimal(s)) for i, s in enumerate(support)),
    )


# --- financial years -----------------------------------------------------------------------


def test_financial_year_of_boundaries() -> None:
    assert d.financial_year_of(date(2025, 4, 1)) == 2025
    assert d.financial_year_of(date(2026, 3, 31)) == 2025
    assert d.financial_year_of(date(2025, 3, 31)) == 2024
    assert d.financial_year_label(2025) == "2025-26"
    assert d.financial_year_label(2099) == "2099-00"
    assert d.days_in_financial_year(2023) == 366  # contains 29 February 2024
    assert d.days_in_financial_year(2025) == 365


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_every_date_falls_in_its_financial_year(day: date) -> None:
    fy = d.financial_year_of(day)
    assert d.financial_year_start(fy) <= day <= d.financial_year_end(fy)


# --- weekly fee and annual cost -------------------------------------------------------------


def test_annual_cost_is_weekly_total_times_weeks() -> None:
    fee = d.WeeklyFee(Decimal("1500.00"), (d.SupportItem("1:1", Decimal("400.00")),))
    assert fee.total == Decimal("1900.00")
    assert fee.annual_cost(38) == Decimal("72200.00")
    assert fee.annual_cost(52) == Decimal("98800.00")


def test_fee_history_applies_changes_from_their_dates() -> None:
    start = date(2026, 4, 20)
    history = (
        _fee("1000.00", start, "100.00"),
        d.FeeChange(
            date(2026, 9, 1),
            d.FeeChangeKind.VARIATION,
            OFFICER,
            AT,
            "more support",
            support=(d.SupportItem("1:1", Decimal("300.00")),),
        ),
        d.FeeChange(
            date(2027, 4, 1),
            d.FeeChangeKind.UPLIFT,
            OFFICER,
            AT,
            "uplift",
            uplift_percent=Decimal("2.5"),
        ),
    )
    assert d.fee_on(history, date(2026, 5, 1)).total == Decimal("1100.00")
    assert d.fee_on(history, date(2026, 9, 1)).total == Decimal("1300.00")
    after_uplift = d.fee_on(history, date(2027, 4, 1))
    assert after_uplift.core == Decimal("1025.00")  # uplift on the core fee only
    assert after_uplift.total == Decimal("1325.00")
    periods = d.fee_periods(history, start, date(2027, 12, 31))
    assert [(p.first_day, p.last_day) for p in periods] == [
        (start, date(2026, 8, 31)),
        (date(2026, 9, 1), date(2027, 3, 31)),
        (date(2027, 4, 1), date(2027, 12, 31)),
    ]


def test_uplift_rounds_half_up_to_the_penny() -> None:
    base = _fee("1234.56", date(2026, 4, 1))
    uplift = d.FeeChange(
        date(2026, 5, 1), d.FeeChangeKind.UPLIFT, OFFICER, AT, "u", uplift_percent=Decimal("2.5")
    )
    assert d.fee_on((base, uplift), date(2026, 5, 1)).core == Decimal("1265.42")  # 1265.424


def test_back_dated_uplift_composes_with_a_later_variation() -> None:
    base = _fee("1000.00", date(2026, 4, 1))
    variation = d.FeeChange(
        date(2026, 6, 1),
        d.FeeChangeKind.VARIATION,
        OFFICER,
        AT,
        "v",
        support=(d.SupportItem("therapy", Decimal("50.00")),),
    )
    uplift = d.FeeChange(
        date(2026, 5, 1), d.FeeChangeKind.UPLIFT, OFFICER, AT, "u", uplift_percent=Decimal("3")
    )
    fee = d.fee_on((base, variation, uplift), date(2026, 6, 1))  # uplift recorded last
    assert fee.core == Decimal("1030.00")
    assert fee.total == Decimal("1080.00")


# --- apportionment --------------------------------------------------------------------------


def test_a_whole_financial_year_costs_exactly_the_annual_cost() -> None:
    history = (_fee("1500.00", date(2026, 4, 1), "400.00"),)
    by_fy = d.apportion_by_financial_year(history, date(2026, 4, 1), date(2027, 3, 31), 38)
    assert by_fy == {2026: Decimal("72200.00")}


def test_a_period_across_two_years_is_split_by_days() -> None:
    history = (_fee("700.00", date(2026, 1, 1)),)
    # 1 Jan 2026 to 31 Dec 2026: 90 days in FY2025 (365 days), 275 days in FY2026 (365 days).
    by_fy = d.apportion_by_financial_year(history, date(2026, 1, 1), date(2026, 12, 31), 52)
    annual = Decimal("36400.00")
    assert by_fy == {
        2025: (annual * 90 / 365).quantize(d.PENNY),
        2026: (annual * 275 / 365).quantize(d.PENNY),
    }
    assert sum(by_fy.values()) == Decimal("36400.00")


def test_rounding_rule_gives_leftover_pennies_to_largest_remainders_then_earliest() -> None:
    third = Fraction(1, 3)
    assert d.round_preserving_total({2027: third, 2025: third, 2026: third}) == {
        2025: Decimal("0.34"),
        2026: Decimal("0.33"),
        2027: Decimal("0.33"),
    }
    assert d.round_preserving_total({2025: Fraction(1, 1000), 2026: Fraction(9, 1000)}) == {
        2025: Decimal("0.00"),
        2026: Decimal("0.01"),
    }


def test_empty_period_costs_nothing() -> None:
    history = (_fee("700.00", date(2026, 1, 1)),)
    assert d.apportion_by_financial_year(history, date(2026, 2, 1), date(2026, 1, 31), 52) == {}


pennies = st.integers(min_value=0, max_value=2_000_000).map(lambda p: Decimal(p) / 100)


@st.composite
def fee_histories(draw: st.DrawFn) -> tuple[tuple[d.FeeChange, ...], date, date, int]:
    """A period of up to ~5 years with an award and up to four variations/uplifts."""
    start = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31)))
    end = start + timedelta(days=draw(st.integers(min_value=0, max_value=1900)))
    weeks = draw(st.sampled_from(d.WEEKS_PER_YEAR_OPTIONS))
    award = d.FeeChange(
        start,
        d.FeeChangeKind.AWARD,
        OFFICER,
        AT,
        "award",
        core=draw(pennies),
        support=tuple(d.SupportItem("s", amount) for amount in draw(st.lists(pennies, max_size=3))),
    )
    changes = [award]
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        effective = start + timedelta(days=draw(st.integers(0, (end - start).days)))
        if draw(st.booleans()):
            change = d.FeeChange(
                effective,
                d.FeeChangeKind.UPLIFT,
                OFFICER,
                AT,
                "u",
                uplift_percent=draw(st.integers(1, 1000).map(lambda p: Decimal(p) / 100)),
            )
        else:
            change = d.FeeChange(
                effective, d.FeeChangeKind.VARIATION, OFFICER, AT, "v", core=draw(pennies)
            )
        changes.append(change)
    return tuple(changes), start, end, weeks


def _exact_by_day(history: tuple[d.FeeChange, ...], start: date, end: date, weeks: int) -> Fraction:
    """Independent oracle: the day-by-day sum of annual cost / days in that financial year."""
    total = Fraction(0)
    day = start
    while day <= end:
        annual = Fraction(d.fee_on(history, day).annual_cost(weeks))
        total += annual / d.days_in_financial_year(d.financial_year_of(day))
        day += timedelta(days=1)
    return total


@settings(max_examples=150, deadline=None)
@given(fee_histories())
def test_apportioned_years_sum_to_the_whole_period_to_the_penny(
    case: tuple[tuple[d.FeeChange, ...], date, date, int],
) -> None:
    history, start, end, weeks = case
    by_fy = d.apportion_by_financial_year(history, start, end, weeks)
    whole = _exact_by_day(history, start, end, weeks)
    expected_pennies = int((whole * 100 + Fraction(1, 2)) // 1)  # half-up to the penny
    assert sum(by_fy.values()) == Decimal(expected_pennies) / 100
    assert all(amount >= 0 for amount in by_fy.values())
    assert all(amount == amount.quantize(d.PENNY) for amount in by_fy.values())
    assert list(by_fy) == list(range(d.financial_year_of(start), d.financial_year_of(end) + 1))
    exact = d.exact_cost_by_financial_year(d.fee_periods(history, start, end), weeks)
    for fy, amount in by_fy.items():
        assert abs(Fraction(amount) - exact[fy]) < Fraction(1, 100)  # never more than 1p out


@settings(max_examples=150, deadline=None)
@given(fee_histories(), pennies, st.data())
def test_a_variation_part_way_splits_the_cost_exactly(
    case: tuple[tuple[d.FeeChange, ...], date, date, int], new_core: Decimal, data: st.DataObject
) -> None:
    history, start, end, weeks = case
    award = history[0]
    split = start + timedelta(days=data.draw(st.integers(0, (end - start).days)))
    variation = d.FeeChange(
        split, d.FeeChangeKind.VARIATION, OFFICER, AT, "v", core=new_core, support=()
    )
    varied = d.exact_cost_by_financial_year(d.fee_periods((award, variation), start, end), weeks)
    before = d.exact_cost_by_financial_year(
        d.fee_periods((award,), start, split - timedelta(days=1)), weeks
    )
    after_fee = (_fee(str(new_core), split),)
    after = d.exact_cost_by_financial_year(d.fee_periods(after_fee, split, end), weeks)
    for fy in varied:
        assert varied[fy] == before.get(fy, 0) + after.get(fy, 0)
