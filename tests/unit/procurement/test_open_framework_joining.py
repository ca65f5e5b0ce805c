"""Issue 19: an open framework admits new suppliers only when it is reopened (Procurement
Act 2023 s.49(1), (4)-(5)), in application windows before each award; a framework
awarded to one supplier ends within 4 years (s.49(6)); a phase-transfer call-off's
standstill counts working days under the Act and calendar days under PCR 2015."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.procurement import domain as d
from services.procurement.domain import DomainError, RegimeCode, Rule, Scheme, submit_application
from services.procurement.domain.frameworks import (
    ApplicationWindow,
    application_windows,
    next_application_window,
    open_application_window,
    reopen_framework,
    single_supplier_expiry,
)
from shared.working_days import LONDON, add_working_days

from .builders import ANSWERS, member, scheme


def framework(**overrides: object) -> Scheme:
    fields: dict[str, object] = {
        "regime": RegimeCode.PA2023_OPEN_FRAMEWORK,
        "term_start": date(2025, 6, 2),  # the first framework's award (a Monday)
        "term_end": date(2033, 6, 1),  # the last day of 8 years from it
        "max_extension_end": None,
        "established_on": date(2025, 3, 3),  # its tender notice
        "imported": False,
        "narrowing_published": False,
        "reopening_dates": (date(2027, 6, 1), date(2030, 6, 3)),
    }
    fields.update(overrides)
    return scheme(**fields)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=LONDON)


def apply(s: Scheme, day: date, provider_id: str = "P9", **kw: object) -> d.Application:
    return submit_application(
        s,
        application_id="A9",
        provider_id=provider_id,
        requested_categories=["asd-day"],
        answers=ANSWERS,
        now=at(day),
        **kw,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------- application windows


def test_each_award_has_a_window_that_closes_in_time_to_decide_every_application() -> None:
    s = framework()
    assert application_windows(s) == (
        # Award Monday 2 June 2025: decided by Friday 30 May; 15 working days before it
        # (5 and 26 May are bank holidays) is Thursday 8 May; the window is 30 days.
        ApplicationWindow(1, date(2025, 4, 9), date(2025, 5, 8), date(2025, 6, 2)),
        ApplicationWindow(2, date(2027, 4, 8), date(2027, 5, 7), date(2027, 6, 1)),
        ApplicationWindow(3, date(2030, 4, 10), date(2030, 5, 9), date(2030, 6, 3)),
    )
    for w in application_windows(s):
        # received on the last day, and extended to 15 working days, still decided
        # before the award
        assert add_working_days(w.closes_on, 15) < w.award_on


def test_the_first_window_opens_no_earlier_than_the_establishment() -> None:
    s = framework(established_on=date(2025, 4, 28))
    assert application_windows(s)[0] == ApplicationWindow(
        1, date(2025, 4, 28), date(2025, 5, 8), date(2025, 6, 2)
    )
    # established on the award day itself: no window for the first framework
    late = framework(established_on=date(2025, 6, 2))
    assert [w.framework for w in application_windows(late)] == [2, 3]


def test_a_new_supplier_applies_only_within_a_window() -> None:
    s = framework()
    assert apply(s, date(2027, 4, 8)).provider_id == "P9"  # the window opens
    assert apply(s, date(2027, 5, 7)).provider_id == "P9"  # its last day
    with pytest.raises(DomainError) as e:
        apply(s, date(2027, 5, 10))  # closed: the applications are being decided
    assert (e.value.field, e.value.rule) == ("scheme_id", Rule.SCHEME_NOT_OPEN)
    assert "s.49(1)" in e.value.message and "s.49(4)-(5)" in e.value.message
    assert "2030-04-10 to 2030-05-09" in e.value.message  # when to come back
    with pytest.raises(DomainError) as e:
        apply(s, date(2026, 3, 2))  # between reopenings
    assert "2027-04-08 to 2027-05-07, for framework 2" in e.value.message


def test_a_member_asking_for_a_further_part_waits_for_a_window_too() -> None:
    s = framework()
    held = [member("P9", lot=None, category="semh-res", scheme_id=s.scheme_id)]
    with pytest.raises(DomainError) as e:
        apply(s, date(2026, 3, 2), existing_memberships=held)
    assert e.value.rule is Rule.SCHEME_NOT_OPEN
    assert apply(s, date(2027, 4, 20), existing_memberships=held).requested_categories == (
        "asd-day",
    )


def test_no_window_after_the_last_reopening() -> None:
    s = framework()
    assert open_application_window(s, date(2031, 1, 6)) is None
    assert next_application_window(s, date(2031, 1, 6)) is None
    with pytest.raises(DomainError) as e:
        apply(s, date(2031, 1, 6))
    assert "no window remains" in e.value.message


def test_a_reopening_held_early_closes_its_window_and_the_next_opens_after_it() -> None:
    s = framework()
    held_on = date(2027, 4, 30)
    s = reopen_framework(s, held_on, by="c", reason="early", now=at(held_on), suppliers=3)
    windows = {w.framework: w for w in application_windows(s)}
    assert windows[2].award_on == held_on and windows[2].closes_on < held_on
    assert open_application_window(s, date(2027, 5, 4)) is None  # framework 2 is awarded
    assert windows[3].opens_on == date(2030, 4, 10)


def test_dynamic_markets_and_pcr_schemes_join_at_any_time() -> None:
    market = scheme(
        regime=RegimeCode.PA2023_DYNAMIC_MARKET,
        established_on=date(2025, 3, 3),
        imported=False,
        narrowing_published=False,
    )
    assert application_windows(market) == ()
    assert apply(market, date(2026, 3, 2)).scheme_id == market.scheme_id
    assert apply(scheme(), date(2026, 3, 2)).scheme_id == "S1"


def test_a_draft_may_be_saved_outside_a_window() -> None:
    draft = d.save_draft(
        framework(),
        provider_id="P9",
        requested_categories=["asd-day"],
        answers={},
        now=at(date(2026, 3, 2)),
    )
    assert draft.provider_id == "P9"  # a draft is not an application (no clock)


# ---------------------------------------------------------------- s.49(6)


def test_a_framework_awarded_to_one_supplier_must_end_within_four_years() -> None:
    s = framework()
    on = date(2027, 6, 1)
    assert single_supplier_expiry(s, on) == date(2031, 5, 31)
    with pytest.raises(DomainError) as e:
        reopen_framework(s, on, by="c", reason="r", now=at(on), suppliers=1)
    assert (e.value.field, e.value.rule) == ("term_end", Rule.OUT_OF_RANGE)
    assert "s.49(6)" in e.value.message and "2031-05-31" in e.value.message
    # two suppliers: no such limit; the count is recorded
    two = reopen_framework(s, on, by="c", reason="r", now=at(on), suppliers=2)
    assert two.reopenings[-1].suppliers == 2
    # a framework whose term ends within the 4 years may be awarded to one supplier
    short = framework(term_end=date(2031, 5, 31), reopening_dates=(date(2027, 6, 1),))
    one = reopen_framework(short, on, by="c", reason="r", now=at(on), suppliers=1)
    assert one.reopenings[-1].suppliers == 1
    # ... but not if an extension could take it beyond them
    longer = framework(
        term_end=date(2031, 5, 31),
        reopening_dates=(date(2027, 6, 1),),
        extension_ends=(date(2031, 6, 1),),
    )
    with pytest.raises(DomainError) as e:
        reopen_framework(longer, on, by="c", reason="r", now=at(on), suppliers=1)
    assert e.value.field == "term_end"
    assert single_supplier_expiry(scheme(), on) is None  # other regimes: no such rule


# --------------------------------------------------- phase-transfer timetable (s.51)


def test_act_standstill_in_the_timetable_counts_working_days() -> None:
    closes = datetime(2026, 12, 14, 12, tzinfo=UTC)  # a Monday
    market = scheme(
        regime=RegimeCode.PA2023_DYNAMIC_MARKET,
        established_on=date(2025, 3, 3),
        imported=False,
        narrowing_published=False,
        voluntary_standstill=True,
        term_end=date(2029, 2, 23),
    )
    check = d.check_call_off_timetable(market, closes, date(2027, 1, 5))
    # Evaluated Monday 21 December; 8 working days beginning with it: 21-24 (4), then
    # 25 and 28 December and 1 January are bank holidays: 29, 30, 31 Dec (7), 4 Jan (8).
    assert check.expected_completion == date(2027, 1, 4) and not check.at_risk
    assert check.standstill_days == 8 and check.standstill_working_days
    assert "8 working days' standstill" in check.reason
    # The same dates under PCR 2015: 10 calendar days after the decision.
    pcr = d.check_call_off_timetable(scheme(voluntary_standstill=True), closes, date(2027, 1, 5))
    assert pcr.expected_completion == date(2026, 12, 31) and not pcr.standstill_working_days
    assert "10 days' standstill" in pcr.reason
    # Without a standstill the Act scheme finishes on the decision day.
    plain = d.check_call_off_timetable(
        scheme(
            regime=RegimeCode.PA2023_DYNAMIC_MARKET,
            established_on=date(2025, 3, 3),
            imported=False,
            narrowing_published=False,
        ),
        closes,
        date(2026, 12, 21),
    )
    assert plain.expected_completion == date(2026, 12, 21) and plain.standstill_days == 0
