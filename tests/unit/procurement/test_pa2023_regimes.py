"""Issue 19: the Procurement Act 2023 regimes as data — dynamic markets, open frameworks
(reopening schedule), light touch variants, and the s.51 standstill in working days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from services.procurement.domain import (
    CompetitionKind,
    DomainError,
    RegimeCode,
    Rule,
    Scheme,
    create_scheme,
    open_scheme,
    regime_for,
    standstill_decision,
    standstill_end,
)
from services.procurement.domain.frameworks import (
    framework_number,
    next_reopening_due,
    reopen_framework,
    statutory_reopening_deadline,
)
from services.procurement.domain.regimes import (
    PA2023_GO_LIVE,
    CallOffProcedure,
    regime_rules_for,
)
from shared.working_days import LONDON, end_of_day

from .builders import scheme

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)


def market(**overrides: object) -> Scheme:
    fields: dict[str, object] = {
        "regime": RegimeCode.PA2023_DYNAMIC_MARKET,
        "established_on": date(2025, 3, 3),
        "imported": False,
        "narrowing_published": False,
    }
    fields.update(overrides)
    return scheme(**fields)


OF_START = date(2025, 4, 1)


def framework(**overrides: object) -> Scheme:
    fields: dict[str, object] = {
        "regime": RegimeCode.PA2023_OPEN_FRAMEWORK,
        "term_start": OF_START,
        "term_end": date(2033, 3, 31),  # the last day of 8 years from the first award
        "max_extension_end": None,
        "established_on": OF_START,
        "imported": False,
        "narrowing_published": False,
        "reopening_dates": (date(2028, 3, 31), date(2031, 4, 1)),
    }
    fields.update(overrides)
    return scheme(**fields)


def refused(build: object, **overrides: object) -> DomainError:
    with pytest.raises(DomainError) as e:
        build(**overrides)  # type: ignore[operator]
    return e.value


# ------------------------------------------------------------------ regimes as data


def test_act_regimes_differ_from_pcr_where_the_act_does() -> None:
    dm, of = regime_for("pa2023_dynamic_market"), regime_for("pa2023_open_framework")
    for r in (dm, of):
        assert r.under_act and r.earliest_establishment == PA2023_GO_LIVE
        assert r.long_stop is None and r.new_schemes_before is None
        assert (r.standstill_days, r.standstill_working_days) == (8, True)
        assert not r.standstill_mandatory and "s.51(3)" in r.standstill_source
        assert r.award_notice_days == 30 and not r.award_notice_quarterly_grouping
        assert "s.53" in r.award_notice_source
    assert dm.statutory_min_tender_days == 10 and "s.54" in dm.tender_period_source
    assert dm.call_off_procedures == (CallOffProcedure.COMPETITIVE_FLEXIBLE_PROCEDURE,)
    assert dm.joins_at_any_time and "s.36" in dm.membership_source
    assert "s.37" in dm.membership_source  # removal of excluded suppliers
    assert of.reopening is not None and "s.49(2)" in of.reopening.source
    assert not of.joins_at_any_time
    assert set(of.call_off_procedures) == {
        CallOffProcedure.COMPETITIVE_SELECTION_PROCESS,
        CallOffProcedure.FRAMEWORK_DIRECT_AWARD,
    }
    pcr = regime_for("pcr2015")
    assert not pcr.under_act and not pcr.standstill_working_days


def test_light_touch_variant_has_the_acts_freedoms() -> None:
    lt = regime_rules_for("pa2023_dynamic_market", light_touch=True)
    assert lt.light_touch and lt.code is RegimeCode.PA2023_DYNAMIC_MARKET
    assert lt.statutory_min_tender_days is None and lt.urgent_shortening_allowed
    assert lt.award_notice_days == 120 and "120" in lt.award_notice_source
    assert lt.may_tier and lt.may_screen
    # A PCR scheme says light-touch by its regime code, not the flag.
    e = refused(regime_rules_for, code="pcr2015", light_touch=True)
    assert (e.field, e.rule) == ("light_touch", Rule.MISMATCH)


# ------------------------------------------------------------------ dynamic market


def test_a_dynamic_market_is_established_on_or_after_commencement() -> None:
    assert market(established_on=PA2023_GO_LIVE).established_on == PA2023_GO_LIVE
    e = refused(market, established_on=date(2025, 2, 23))
    assert (e.field, e.rule) == ("established_on", Rule.OUT_OF_RANGE)
    assert "24 February 2025" in e.message or "2025-02-24" in e.message


def test_a_dynamic_market_has_no_pcr_long_stop() -> None:
    s = market(term_end=date(2031, 2, 23), max_extension_end=None)
    assert s.last_usable_day == date(2031, 2, 23)  # beyond the PCR DPS long-stop 2029


def test_full_dynamic_market_keeps_the_ten_day_floor_light_touch_does_not() -> None:
    e = refused(market, min_tender_days=7, urgent_min_tender_days=2)
    assert (e.field, e.rule) == ("min_tender_days", Rule.OUT_OF_RANGE)
    lt = market(light_touch=True, min_tender_days=7, urgent_min_tender_days=2)
    assert lt.tender_days_floor == 7 and lt.regime_rules.light_touch


def test_full_dynamic_market_neither_tiers_nor_screens_even_if_published() -> None:
    s = market(narrowing_published=True)
    assert not s.may_tier and not s.may_screen
    lt = market(narrowing_published=True, light_touch=True)
    assert lt.may_tier and lt.may_screen


# ------------------------------------------------------------------- open framework


def test_open_framework_schedule_is_valid_and_exposed() -> None:
    s = framework()
    assert framework_number(s) == 1
    assert next_reopening_due(s) == date(2028, 3, 31)
    assert statutory_reopening_deadline(s) == date(2028, 3, 31)  # 3 years from 1 Apr 2025


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reopening_dates": ()}, "reopening_dates"),
        # the first reopening one day too late (the 3 years end on 31 March 2028)
        ({"reopening_dates": (date(2028, 4, 1), date(2031, 4, 1))}, "reopening_dates"),
        # more than 5 years between reopenings
        ({"reopening_dates": (date(2026, 4, 1), date(2031, 4, 1))}, "reopening_dates"),
        # the last framework runs more than 5 years
        ({"reopening_dates": (date(2027, 4, 1),)}, "term_end"),
        # longer than 8 years in all
        ({"term_end": date(2033, 4, 1)}, "term_end"),
        # an extension may not take it past 8 years either
        ({"term_end": date(2032, 3, 31), "extension_ends": (date(2033, 6, 1),)}, "term_end"),
        ({"reopening_dates": (date(2031, 4, 1), date(2028, 3, 31))}, "reopening_dates"),
    ],
)
def test_open_framework_schedule_is_refused_where_s49_is_not_met(
    overrides: dict[str, object], field: str
) -> None:
    e = refused(framework, **overrides)
    assert (e.field, e.rule) in {(field, Rule.OUT_OF_RANGE), (field, Rule.REQUIRED)}
    assert "s.49" in e.message


def test_only_an_open_framework_has_reopenings() -> None:
    e = refused(market, reopening_dates=(date(2027, 1, 1),))
    assert (e.field, e.rule) == ("reopening_dates", Rule.MISMATCH)


def test_reopening_carries_the_terms_over_and_moves_the_schedule_on() -> None:
    s = framework()
    at = datetime(2028, 3, 1, 9, tzinfo=LONDON)
    after = reopen_framework(s, at.date(), by="commissioner", reason="reopening 1", now=at)
    assert framework_number(after) == 2 and after.reopenings[0].planned_on == date(2028, 3, 31)
    assert next_reopening_due(after) == date(2031, 4, 1)
    assert statutory_reopening_deadline(after) == date(2033, 2, 28)  # 5 years from 1 Mar 2028
    # the same terms: everything but the reopening record is unchanged
    assert replace(after, reopenings=()) == s
    with pytest.raises(DomainError) as e:
        reopen_framework(market(), at.date(), by="c", reason="r", now=at)
    assert e.value.rule is Rule.MISMATCH


def test_a_reopening_past_the_statutory_deadline_is_refused() -> None:
    late = datetime(2028, 4, 1, 9, tzinfo=LONDON)
    with pytest.raises(DomainError) as e:
        reopen_framework(framework(), late.date(), by="c", reason="r", now=late)
    assert (e.value.field, e.value.rule) == ("on", Rule.OUT_OF_RANGE)


def test_every_planned_reopening_once() -> None:
    s = framework(reopening_dates=(date(2028, 3, 31),), term_end=date(2033, 3, 30))
    at = datetime(2028, 3, 1, 9, tzinfo=LONDON)
    s = reopen_framework(s, at.date(), by="c", reason="r", now=at)
    assert next_reopening_due(s) is None
    with pytest.raises(DomainError) as e:
        reopen_framework(s, date(2029, 1, 2), by="c", reason="r", now=at)
    assert e.value.field == "reopening_dates"


# ------------------------------------------------------------------ standstill (s.51)


def test_act_standstill_is_eight_working_days_beginning_with_the_notice_day() -> None:
    # Thursday 24 Dec 2026: 24 (1), 29, 30, 31 Dec (4), 4-7 Jan 2027 (8); 25 Dec, the
    # 28 Dec substitute for Boxing Day and 1 Jan are bank holidays.
    assert standstill_end(date(2026, 12, 24), 8, working_days=True) == end_of_day(date(2027, 1, 7))
    # A notice published on a Saturday: the period begins with the next working day.
    assert standstill_end(date(2026, 3, 7), 8, working_days=True) == end_of_day(date(2026, 3, 18))
    # PCR 2015 is unchanged: 10 calendar days after, moved to a working day.
    assert standstill_end(date(2026, 3, 2), 10) == end_of_day(date(2026, 3, 12))


def test_call_offs_under_the_act_have_no_mandatory_standstill_but_may_have_a_voluntary_one() -> (
    None
):
    day = date(2026, 3, 2)
    d = standstill_decision(market(), CompetitionKind.INDIVIDUAL, Decimal(100000), day)
    assert not d.applies and "s.51(3)" in d.reason
    v = standstill_decision(
        market(voluntary_standstill=True), CompetitionKind.INDIVIDUAL, Decimal(1), day
    )
    assert v.applies and "voluntary standstill of 8 working days" in v.reason
    block = standstill_decision(market(), CompetitionKind.BLOCK, Decimal(700000), day)
    assert block.applies and "voluntary" in block.reason


def test_pcr_schemes_still_build() -> None:
    s = open_scheme(create_scheme(replace(scheme(), status=scheme().status)), date(2026, 3, 2))
    assert s.regime_rules.code is RegimeCode.PCR2015_LIGHT_TOUCH
