"""Placements: the configured limits, and the small checks and date sums the concept
modules share."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal

from shared.contracts import procurement_v1
from shared.errors import DomainError

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


def _require(condition: bool, field: str, rule: str, message: str) -> None:
    if not condition:
        raise DomainError(field, rule, message)


def _require_text(value: str, field: str) -> None:
    _require(bool(value and value.strip()), field, "required", f"{field} is required")


def _require_aware(at: datetime, field: str = "at") -> None:
    # Event times from different councils and services are only comparable with a zone.
    _require(at.tzinfo is not None, field, "timezone_required", f"{field} must carry a timezone")


def _check_weeks_per_year(weeks_per_year: int) -> None:
    _require(
        weeks_per_year in WEEKS_PER_YEAR_OPTIONS,
        "weeks_per_year",
        "weeks_per_year_invalid",
        "weeks per year must be 38 or 52",
    )


def _check_notice_period(notice_period_weeks: int) -> None:
    _require(
        0 <= notice_period_weeks <= MAX_NOTICE_PERIOD_WEEKS,
        "notice_period_weeks",
        "notice_period_out_of_range",
        f"notice period must be 0 to {MAX_NOTICE_PERIOD_WEEKS} weeks",
    )


def _require_later_term_end(new_term_end: date, term_end: date) -> None:
    _require(
        new_term_end > term_end,
        "new_term_end",
        "not_after_term_end",
        "the new term end must be after the current one",
    )


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
