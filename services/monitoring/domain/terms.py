"""School terms, KPI return deadlines and the council's financial year."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time

import shared.fiscal
from services.monitoring.domain._records import _require_aware
from shared.api_types import DATE_MAX, DATE_MIN
from shared.contracts.quality_v1 import TERM_PATTERN
from shared.errors import DomainError

_SEASONS = ("spring", "summer", "autumn")  # order within a calendar year


def term_sort_key(term: str) -> tuple[int, int]:
    """Sort key of a term label such as "2025-autumn" (calendar year, then season)."""
    if not re.fullmatch(TERM_PATTERN, term):
        raise DomainError("term", 'must look like "2025-autumn" (spring, summer or autumn)')
    year, season = term.split("-")
    if not DATE_MIN.year <= int(year) <= DATE_MAX.year:
        # Year 0 has no calendar, and deadlines run past a term's end (shared.api_types).
        raise DomainError("term", f"the year must be {DATE_MIN.year} to {DATE_MAX.year}")
    return int(year), _SEASONS.index(season)


def term_window(term: str) -> tuple[date, date]:
    """Reporting window of a term: spring Jan-Mar, summer Apr-Aug, autumn Sep-Dec.

    The windows tile the calendar year so every day belongs to exactly one term; real
    term dates vary by school and by Easter, which is close enough for "who owes a
    KPI return".
    """
    year, season = term_sort_key(term)
    starts = (date(year, 1, 1), date(year, 4, 1), date(year, 9, 1))[season]
    ends = (date(year, 3, 31), date(year, 8, 31), date(year, 12, 31))[season]
    return starts, ends


def term_of(day: date) -> str:
    """The term whose reporting window (see `term_window`) contains `day`."""
    season = 0 if day.month <= 3 else 1 if day.month <= 8 else 2
    return f"{day.year}-{_SEASONS[season]}"


def next_term(term: str) -> str:
    """The term after `term`: spring -> summer -> autumn -> next year's spring."""
    year, season = term_sort_key(term)
    if season == len(_SEASONS) - 1:
        return f"{year + 1}-{_SEASONS[0]}"
    return f"{year}-{_SEASONS[season + 1]}"


def previous_term(term: str) -> str:
    """The term before `term`: autumn -> summer -> spring -> last year's autumn."""
    year, season = term_sort_key(term)
    if season == 0:
        return f"{year - 1}-{_SEASONS[-1]}"
    return f"{year}-{_SEASONS[season - 1]}"


KPI_RETURN_WORKING_DAYS = 10  # default: a term's return is due 10 working days after it


def kpi_return_deadline(
    term: str,
    working_day_deadline: Callable[[datetime, int], datetime],
    working_days: int = KPI_RETURN_WORKING_DAYS,
) -> datetime:
    """When a term's KPI returns are due: the end (London) of the N-th working day after
    the last day of the term's window, in the `shared.working_days` convention. A
    placement active in the term with no return by then raises "no KPI return".
    """
    if working_days < 1:
        raise DomainError("working_days", "must be at least 1")
    last = term_window(term)[1]
    # Noon UTC is the same London calendar day in winter and summer time.
    return working_day_deadline(datetime.combine(last, time(12), tzinfo=UTC), working_days)


def first_term_due_after(
    now: datetime,
    working_day_deadline: Callable[[datetime, int], datetime],
    working_days: int = KPI_RETURN_WORKING_DAYS,
) -> str:
    """The earliest term whose KPI return deadline is still ahead of `now` (strictly)."""
    _require_aware("now", now)
    term = next_term(term_of(now.date()))
    # Walk back while the previous term's deadline is still in the future.
    while True:
        previous = previous_term(term)
        if kpi_return_deadline(previous, working_day_deadline, working_days) <= now:
            return term
        term = previous


def financial_year_label(financial_year: int) -> str:
    """Human label, e.g. 2025 -> "2025/26" (monitoring's label; see `shared.fiscal`)."""
    return shared.fiscal.financial_year_label(financial_year, "/")
