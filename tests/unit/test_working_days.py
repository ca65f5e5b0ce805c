"""England and Wales working-day calendar: fixed cases and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.working_days import (
    LONDON,
    add_working_days,
    bank_holidays,
    end_of_day,
    is_bank_holiday,
    is_working_day,
    london_date,
    next_working_day_on_or_after,
    working_day_deadline,
    working_days_between,
)

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
counts = st.integers(min_value=0, max_value=400)


def brute_force_between(a: date, b: date) -> int:
    return sum(1 for i in range(1, (b - a).days + 1) if is_working_day(a + timedelta(days=i)))


# ---------------------------------------------------------------- fixed cases


def test_england_and_wales_bank_holidays_2026() -> None:
    assert bank_holidays(2026) == {
        date(2026, 1, 1),
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 31),
        date(2026, 12, 25),
        date(2026, 12, 26),  # Boxing Day falls on a Saturday...
        date(2026, 12, 28),  # ...so Monday is the substitute day
    }


def test_scottish_only_holidays_are_not_working_day_exceptions() -> None:
    assert is_working_day(date(2026, 1, 2))  # 2 January is a holiday in Scotland only
    assert is_working_day(date(2026, 8, 3))  # Scottish summer bank holiday
    assert is_working_day(date(2026, 11, 30))  # St Andrew's Day
    assert not is_bank_holiday(date(2026, 3, 17))  # St Patrick's Day (NI only)


def test_one_off_holidays_are_known() -> None:
    assert is_bank_holiday(date(2022, 9, 19))  # state funeral of Queen Elizabeth II
    assert is_bank_holiday(date(2023, 5, 8))  # coronation of King Charles III


def test_weekends_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 3, 7))
    assert not is_working_day(date(2026, 3, 8))
    assert is_working_day(date(2026, 3, 9))


def test_ten_working_days_from_a_monday() -> None:
    assert add_working_days(date(2026, 3, 2), 10) == date(2026, 3, 16)


def test_start_day_does_not_count_even_at_a_weekend() -> None:
    friday, saturday, sunday = date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 8)
    assert {add_working_days(d, 1) for d in (friday, saturday, sunday)} == {date(2026, 3, 9)}


def test_easter_2026_is_skipped() -> None:
    # Received Thursday 26 March: Good Friday 3 April and Easter Monday 6 April don't count.
    assert add_working_days(date(2026, 3, 26), 10) == date(2026, 4, 13)
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)


def test_christmas_2026_is_skipped() -> None:
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 30)
    assert working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 4  # 29,30,31 Dec, 4 Jan


def test_working_days_in_2026() -> None:
    # 261 weekdays less 8 weekday bank holidays = 253 working days in the year.
    assert working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 253


def test_zero_days_returns_start_unchanged() -> None:
    assert add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 7)


def test_negative_counts_go_backwards() -> None:
    assert add_working_days(date(2026, 4, 7), -1) == date(2026, 4, 2)
    assert add_working_days(date(2026, 3, 16), -10) == date(2026, 3, 2)


def test_next_working_day_on_or_after() -> None:
    assert next_working_day_on_or_after(date(2026, 3, 9)) == date(2026, 3, 9)
    assert next_working_day_on_or_after(date(2026, 12, 25)) == date(2026, 12, 29)


# ------------------------------------------------------------- instants


def test_deadline_is_end_of_the_nth_working_day_in_london() -> None:
    received = datetime(2026, 3, 2, 15, 30, tzinfo=LONDON)
    deadline = working_day_deadline(received, 10)
    assert deadline == datetime(2026, 3, 17, 0, 0, tzinfo=LONDON)
    assert deadline.utcoffset() == timedelta(0)


def test_deadline_across_the_spring_clock_change() -> None:
    # Clocks go forward on Sunday 29 March 2026: the deadline is midnight BST.
    deadline = working_day_deadline(datetime(2026, 3, 27, 12, tzinfo=LONDON), 1)
    assert deadline == datetime(2026, 3, 31, 0, 0, tzinfo=LONDON)
    assert deadline.astimezone(UTC) == datetime(2026, 3, 30, 23, 0, tzinfo=UTC)


def test_start_instant_is_read_as_a_london_date() -> None:
    # 23:30 UTC on Monday 1 June 2026 is already Tuesday 00:30 in London (BST).
    late = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    assert london_date(late) == date(2026, 6, 2)
    assert working_day_deadline(late, 1) == end_of_day(date(2026, 6, 3))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        london_date(datetime(2026, 3, 2, 9))


def test_deadline_needs_at_least_one_day() -> None:
    with pytest.raises(ValueError):
        working_day_deadline(datetime(2026, 3, 2, 9, tzinfo=LONDON), 0)


# ------------------------------------------------------------- properties


@given(dates, counts)
def test_add_then_count_returns_n(start: date, n: int) -> None:
    assert working_days_between(start, add_working_days(start, n)) == n


@given(dates, st.integers(min_value=1, max_value=400))
def test_result_is_a_working_day_after_start(start: date, n: int) -> None:
    result = add_working_days(start, n)
    assert result > start
    assert is_working_day(result)
    assert result.weekday() < 5
    assert result not in bank_holidays(result.year)


@given(dates, counts)
def test_monotonic_in_n(start: date, n: int) -> None:
    assert add_working_days(start, n) < add_working_days(start, n + 1)


@given(dates, counts)
def test_no_working_day_is_skipped(start: date, n: int) -> None:
    a, b = add_working_days(start, n), add_working_days(start, n + 1)
    assert all(not is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days))


@given(dates, st.integers(min_value=0, max_value=900))
def test_between_matches_brute_force(a: date, span: int) -> None:
    b = a + timedelta(days=span)
    assert working_days_between(a, b) == brute_force_between(a, b)


@given(dates, dates, dates)
def test_between_is_antisymmetric_and_additive(a: date, b: date, c: date) -> None:
    assert working_days_between(a, b) == -working_days_between(b, a)
    assert working_days_between(a, b) + working_days_between(b, c) == working_days_between(a, c)


@given(dates, st.integers(min_value=1, max_value=400))
def test_backwards_then_forwards_returns_to_a_working_day(start: date, n: int) -> None:
    s = next_working_day_on_or_after(start)
    back = add_working_days(s, -n)
    assert is_working_day(back)
    assert add_working_days(back, n) == s


@given(dates)
def test_working_day_definition(d: date) -> None:
    assert is_working_day(d) == (d.weekday() < 5 and d not in bank_holidays(d.year))


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2090, 1, 1),
        timezones=st.just(UTC),
    ),
    st.integers(min_value=1, max_value=30),
)
def test_deadline_instant_is_midnight_after_a_working_day(start: datetime, n: int) -> None:
    deadline = working_day_deadline(start, n)
    local = deadline.astimezone(LONDON)
    assert local.time() == time(0)
    last_day = local.date() - timedelta(days=1)
    assert is_working_day(last_day)
    assert working_days_between(london_date(start), last_day) == n
    assert deadline > start
