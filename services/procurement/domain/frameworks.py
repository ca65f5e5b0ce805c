"""Open frameworks (Procurement Act 2023 s.49): the reopening schedule, checked when the
scheme is set up, and each reopening, which carries the terms over to the next framework."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text

if TYPE_CHECKING:
    from services.procurement.domain.regimes import ReopeningRules
    from services.procurement.domain.schemes import Scheme


def add_years(d: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def _last_day_of_period(start: date, years: int) -> date:
    """Last day of the period of ``years`` years beginning with ``start`` (s.49(2))."""
    return add_years(start, years) - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class FrameworkReopening:
    """The award of the next framework in the scheme: new suppliers may join; the terms,
    members and award criteria carry over unchanged (s.49(1), (4))."""

    number: int  # the framework this reopening awards: 2 for the first reopening
    on: date
    planned_on: date
    recorded_by: str
    recorded_at: datetime
    reason: str


def _rules(s: Scheme) -> ReopeningRules | None:
    return s.regime_rules.reopening


def validate_reopening_schedule(s: Scheme) -> None:
    """An open framework's planned reopenings meet s.49(2); other schemes have none."""
    rules = _rules(s)
    if rules is None:
        _require(
            not s.reopening_dates,
            "reopening_dates",
            Rule.MISMATCH,
            f"only an open framework is reopened ({s.regime} is not one)",
        )
        return
    start = s.term_start
    last_end = max((s.term_end, *s.extension_options))
    limit = _last_day_of_period(start, rules.max_total_years)
    _require(
        last_end <= limit,
        "term_end",
        Rule.OUT_OF_RANGE,
        f"an open framework (with any extension) ends by {limit.isoformat()}, "
        f"{rules.max_total_years} years from its first award ({rules.source})",
    )
    dates = s.reopening_dates
    _require(
        bool(dates),
        "reopening_dates",
        Rule.REQUIRED,
        f"an open framework states when it is reopened ({rules.source})",
    )
    _require(
        all(start < x < last_end for x in dates) and list(dates) == sorted(set(dates)),
        "reopening_dates",
        Rule.OUT_OF_RANGE,
        "reopenings fall within the term, after its start, in order, each once "
        "(s.49(2)(b): each framework expires on the award of the next)",
    )
    first_by = _last_day_of_period(start, rules.first_within_years)
    _require(
        dates[0] <= first_by,
        "reopening_dates",
        Rule.OUT_OF_RANGE,
        f"the first reopening is due by {first_by.isoformat()} "
        f"({rules.first_within_years} years from the first award; {rules.source})",
    )
    # Each later framework is followed by the next award (or the end of the scheme)
    # within the period of 5 years beginning with its own award.
    for previous, following in zip(dates, (*dates[1:], None), strict=True):
        by = _last_day_of_period(previous, rules.then_every_years)
        _require(
            (last_end if following is None else following) <= by,
            "reopening_dates" if following is not None else "term_end",
            Rule.OUT_OF_RANGE,
            f"after the reopening of {previous.isoformat()} the framework is reopened "
            f"again or ends by {by.isoformat()} ({rules.then_every_years} years; "
            f"{rules.source})",
        )


def framework_number(s: Scheme) -> int:
    """Which framework of the scheme is current: 1 until the first reopening."""
    return 1 + len(s.reopenings)


def next_reopening_due(s: Scheme) -> date | None:
    """The next planned reopening not yet held; None for other regimes or when all
    planned reopenings have been held."""
    planned = s.reopening_dates[len(s.reopenings) :]
    return planned[0] if planned else None


def statutory_reopening_deadline(s: Scheme) -> date | None:
    """The last day the next framework may lawfully be awarded (s.49(2)(a)): 3 years
    from the first award, then 5 years from the previous reopening."""
    rules = _rules(s)
    if rules is None:
        return None
    if not s.reopenings:
        return _last_day_of_period(s.term_start, rules.first_within_years)
    return _last_day_of_period(s.reopenings[-1].on, rules.then_every_years)


def reopen_framework(s: Scheme, today: date, *, by: str, reason: str, now: datetime) -> Scheme:
    """Record the award of the next framework: new suppliers may be admitted; the
    scheme's terms (parts, questions, award criteria) and its members carry over."""
    from services.procurement.domain.schemes import SchemeStatus

    _require(
        _rules(s) is not None,
        "regime",
        Rule.MISMATCH,
        f"only an open framework is reopened ({s.regime} is not one)",
    )
    _require(
        s.status in (SchemeStatus.OPEN, SchemeStatus.SUSPENDED),
        "status",
        Rule.INVALID_TRANSITION,
        f"a {s.status} framework is not reopened",
    )
    planned = next_reopening_due(s)
    _require(
        planned is not None,
        "reopening_dates",
        Rule.OUT_OF_RANGE,
        "every reopening the framework planned has been held",
    )
    assert planned is not None
    deadline = statutory_reopening_deadline(s)
    assert deadline is not None
    _require(
        s.term_start < today <= min(deadline, s.last_usable_day),
        "on",
        Rule.OUT_OF_RANGE,
        f"a reopening is held after the first award and by {deadline.isoformat()} "
        f"(s.49(2)(a)) within the term",
    )
    reopening = FrameworkReopening(
        number=framework_number(s) + 1,
        on=today,
        planned_on=planned,
        recorded_by=_require_text(by, "by"),
        recorded_at=now,
        reason=_require_text(reason, "reason"),
    )
    return replace(s, reopenings=(*s.reopenings, reopening))
