"""Open frameworks (Procurement Act 2023 s.49): the reopening schedule, checked when the
scheme is set up; the application windows in which new suppliers may ask to join (before
each framework's award); and each reopening, which carries the terms over to the next
framework and checks the one-supplier limit (s.49(6))."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text, rule_broken
from shared.working_days import add_working_days

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
    # How many suppliers the framework was awarded to (members carried over and those
    # admitted in the window); None for a reopening recorded before it was counted.
    suppliers: int | None = None


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


# ------------------------------------------------------------ application windows

# An open framework admits new suppliers only when a framework is awarded (it is
# reopened): s.49(1). Suppliers already on it are awarded the next framework by
# reference to their earlier award or tender (s.49(4)-(5)): members carry over and need
# not apply again. When a supplier may ask to join each award is the framework's
# published rules, not the Act: these numbers are that data (change them here). A window
# of APPLICATION_WINDOW_DAYS calendar days closes early enough for every application to
# be decided, even with the evaluation extended (Regime.application_evaluation_max_
# working_days), by the last working day before the award; the first framework's window
# opens no earlier than the scheme's establishment, a reopening's after the previous
# award.
APPLICATION_WINDOW_DAYS = 30
JOINING_RULE_SOURCE = (
    "Procurement Act 2023 s.49(1): new suppliers join an open framework only when it is "
    "reopened (the next framework awarded); s.49(4)-(5): existing suppliers carry over by "
    "reference to their earlier award or tender"
)
JOINING_SOURCE = (
    f"{JOINING_RULE_SOURCE}. The framework's published rules (not the Act) set the "
    f"window for each award: {APPLICATION_WINDOW_DAYS} days, closing so that every "
    "application is decided, within the extended evaluation period, before the award"
)


@dataclass(frozen=True, slots=True)
class ApplicationWindow:
    """When a supplier may ask to join the framework awarded on ``award_on``."""

    framework: int  # 1: the first framework; 2: the first reopening, ...
    opens_on: date
    closes_on: date  # last day an application is received
    award_on: date  # the award (planned, or held) that admits those it accepts

    def contains(self, today: date) -> bool:
        return self.opens_on <= today <= self.closes_on


def _award_dates(s: Scheme) -> list[tuple[int, date]]:
    """Each framework's award: the first at the term start, then each reopening as held
    or, until it is, as planned."""
    held = {r.number: r.on for r in s.reopenings}
    later = [(n, held.get(n, planned)) for n, planned in enumerate(s.reopening_dates, start=2)]
    return [(1, s.term_start), *later]


def application_windows(s: Scheme) -> tuple[ApplicationWindow, ...]:
    """The windows in which a supplier may ask to join; none for regimes that admit at
    any time (and none for an award too close to its predecessor to leave one)."""
    if _rules(s) is None or s.regime_rules.joins_at_any_time:
        return ()
    evaluation = s.regime_rules.application_evaluation_max_working_days
    windows = []
    earliest = s.established_on
    for number, award in _award_dates(s):
        closes = add_working_days(add_working_days(award, -1), -evaluation)
        opens = closes - timedelta(days=APPLICATION_WINDOW_DAYS - 1)
        if earliest is not None:
            opens = max(opens, earliest)
        if opens <= closes:
            windows.append(ApplicationWindow(number, opens, closes, award))
        earliest = award + timedelta(days=1)
    return tuple(windows)


def open_application_window(s: Scheme, today: date) -> ApplicationWindow | None:
    """The window open on ``today``, if any."""
    return next((w for w in application_windows(s) if w.contains(today)), None)


def next_application_window(s: Scheme, today: date) -> ApplicationWindow | None:
    """The next window to open after ``today``, if any."""
    return next((w for w in application_windows(s) if w.opens_on > today), None)


def require_may_join(s: Scheme, today: date) -> None:
    """An open framework takes a request to join (a new supplier, or a member asking for
    a part of the framework it is not on, which it too is awarded only with a framework)
    only within an application window; other regimes take one at any time."""
    if s.regime_rules.joins_at_any_time:
        return
    if open_application_window(s, today) is not None:
        return
    upcoming = next_application_window(s, today)
    when = (
        f"the next window is {upcoming.opens_on.isoformat()} to "
        f"{upcoming.closes_on.isoformat()}, for framework {upcoming.framework} awarded "
        f"{upcoming.award_on.isoformat()}"
        if upcoming is not None
        else "no window remains in its reopening schedule"
    )
    raise rule_broken(
        "scheme_id",
        Rule.SCHEME_NOT_OPEN,
        f"an open framework admits new suppliers only when it is reopened; {when} "
        f"({JOINING_RULE_SOURCE})",
    )


# ------------------------------------------------------------------- reopening


def single_supplier_expiry(s: Scheme, award_on: date) -> date | None:
    """s.49(6): the last day a framework awarded to only one supplier on ``award_on``,
    and the open framework, may run; None for other regimes."""
    rules = _rules(s)
    if rules is None:
        return None
    return _last_day_of_period(award_on, rules.single_supplier_max_years)


def _require_single_supplier_limit(s: Scheme, award_on: date, suppliers: int | None) -> None:
    """A framework awarded to only one supplier ends, with the whole open framework,
    within 4 years of its award (s.49(6), which applies despite s.49(2))."""
    limit = single_supplier_expiry(s, award_on)
    if suppliers != 1 or limit is None:
        return
    runs_to = max((s.term_end_effective, *s.extension_options))
    _require(
        runs_to <= limit,
        "term_end",
        Rule.OUT_OF_RANGE,
        f"a framework awarded to only one supplier, and the open framework, expire by "
        f"{limit.isoformat()} (Procurement Act 2023 s.49(6): within 4 years of its award); "
        f"the term (with its extensions) runs to {runs_to.isoformat()}: admit more "
        "suppliers or end the framework sooner before reopening",
    )


def reopen_framework(
    s: Scheme,
    today: date,
    *,
    by: str,
    reason: str,
    now: datetime,
    suppliers: int | None = None,
) -> Scheme:
    """Record the award of the next framework: new suppliers may be admitted; the
    scheme's terms (parts, questions, award criteria) and its members carry over.

    ``suppliers``: how many suppliers the new framework is awarded to (its members
    then); with only one, the s.49(6) limit is checked."""
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
    _require(suppliers is None or suppliers >= 0, "suppliers", Rule.OUT_OF_RANGE, "a count, >= 0")
    _require_single_supplier_limit(s, today, suppliers)
    reopening = FrameworkReopening(
        number=framework_number(s) + 1,
        on=today,
        planned_on=planned,
        recorded_by=_require_text(by, "by"),
        recorded_at=now,
        reason=_require_text(reason, "reason"),
        suppliers=suppliers,
    )
    return replace(s, reopenings=(*s.reopenings, reopening))
