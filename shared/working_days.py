"""England and Wales working-day calendar.

A *working day* is Monday to Friday, excluding the England and Wales bank holidays
(Christmas Day, Good Friday and the days under the Banking and Financial Dealings Act
1971, including substitute days and one-off holidays such as state funerals). The dates
come from the ``holidays`` package (``country_holidays("GB", subdiv="ENG")``; England
and Wales share the same list).

Counting convention (used throughout the project, e.g. "evaluate a request to
participate within 10 working days of receipt", PCR 2015 reg 34): **the start day
never counts**. Day 1 is the first working day strictly after ``start``, whatever
the weekday of ``start`` itself. So a request received on Friday, Saturday or Sunday
all have Monday as day 1 (unless Monday is a bank holiday).

Deadlines as instants: a period of N working days ends at the *end* of day N in
Europe/London, i.e. at 00:00 London time on the next calendar day. That instant is
exclusive: something is on time iff it happens strictly before it.

Everything here is pure (no clock reads): callers pass dates and datetimes in.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "LONDON",
    "add_working_days",
    "bank_holidays",
    "end_of_day",
    "is_bank_holiday",
    "is_working_day",
    "london_date",
    "next_working_day_on_or_after",
    "working_day_deadline",
    "working_days_between",
]

LONDON = ZoneInfo("Europe/London")

_SATURDAY = 5


@lru_cache(maxsize=256)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of ``year`` (cached per year)."""
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(d for d in calendar if d.year == year)


def is_bank_holiday(d: date) -> bool:
    """True if ``d`` is an England and Wales bank holiday (including substitute days)."""
    return d in bank_holidays(d.year)


def is_working_day(d: date) -> bool:
    """True on Monday-Friday that is not an England and Wales bank holiday."""
    return d.weekday() < _SATURDAY and not is_bank_holiday(d)


def next_working_day_on_or_after(d: date) -> date:
    """``d`` itself if it is a working day, otherwise the next working day."""
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def add_working_days(start: date, n: int) -> date:
    """The date ``n`` working days after ``start``; ``start`` itself never counts.

    ``n == 0`` returns ``start`` unchanged. For ``n > 0`` the result is the n-th
    working day strictly after ``start``; for ``n < 0`` it is the |n|-th working day
    strictly before ``start``. For n >= 0, ``working_days_between(start, result) == n``.
    """
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    d = start
    while remaining:
        d += timedelta(days=step)
        if is_working_day(d):
            remaining -= 1
    return d


def _weekdays_in(a: date, b: date) -> int:
    """Count Monday-Friday dates d with a < d <= b (requires a <= b)."""
    days = (b - a).days
    full_weeks, rest = divmod(days, 7)
    count = full_weeks * 5
    d = a + timedelta(days=full_weeks * 7)
    for _ in range(rest):
        d += timedelta(days=1)
        if d.weekday() < _SATURDAY:
            count += 1
    return count


def _weekday_holidays_in(a: date, b: date) -> int:
    """Count bank holidays falling on Monday-Friday with a < d <= b."""
    return sum(
        1
        for year in range(a.year, b.year + 1)
        for h in bank_holidays(year)
        if a < h <= b and h.weekday() < _SATURDAY
    )


def working_days_between(a: date, b: date) -> int:
    """Number of working days d with ``a < d <= b``; negative (antisymmetric) if b < a.

    Inverse of :func:`add_working_days`: for n >= 0,
    ``working_days_between(s, add_working_days(s, n)) == n``. Runs in O(years) time.
    """
    if b < a:
        return -working_days_between(b, a)
    return _weekdays_in(a, b) - _weekday_holidays_in(a, b)


def london_date(instant: datetime) -> date:
    """The Europe/London calendar date of an aware ``instant``."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(LONDON).date()


def end_of_day(d: date) -> datetime:
    """The exclusive instant at which London day ``d`` ends (00:00 London on d + 1).

    Midnight always exists in Europe/London (clocks change at 01:00/02:00), so this
    is unambiguous across summer-time changes.
    """
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=LONDON)


def working_day_deadline(start: datetime, n: int) -> datetime:
    """Deadline instant for "within ``n`` working days of ``start``".

    ``start`` (aware) is mapped to its London calendar date, which does not count; the
    result is the end of the n-th working day after it, as an exclusive, aware
    Europe/London instant (see :func:`end_of_day`). Requires ``n >= 1``.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    return end_of_day(add_working_days(london_date(start), n))
