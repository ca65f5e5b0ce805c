"""Regimes as data, scheme validation and the scheme lifecycle."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from services.procurement.domain import (
    REGIMES,
    STATE_RULES,
    Conflict,
    DomainError,
    Lot,
    RegimeCode,
    Rule,
    Scheme,
    SchemeStatus,
    accepts_applications,
    close_scheme,
    create_scheme,
    extend_scheme_term,
    open_scheme,
    regime_for,
    suspend_scheme,
)
from shared.working_days import LONDON

from .builders import TODAY, scheme


def draft(**overrides: object) -> Scheme:
    s = scheme()
    return replace(s, status=SchemeStatus.DRAFT, **overrides)  # type: ignore[arg-type]


# ------------------------------------------------------------------ regimes


def test_every_regime_code_has_a_table_entry() -> None:
    assert set(REGIMES) == set(RegimeCode)


def test_pcr2015_dps_timescales() -> None:
    r = regime_for("pcr2015")
    assert r.statutory_min_tender_days == 10
    assert not r.urgent_shortening_allowed
    assert (r.application_evaluation_working_days, r.application_evaluation_max_working_days) == (
        10,
        15,
    )
    assert r.standstill_days == 10 and not r.standstill_mandatory
    assert "86" in r.standstill_source
    assert r.award_notice_days == 30 and r.award_notice_quarterly_grouping
    assert "reg 50" in r.award_notice_source


def test_light_touch_lets_the_scheme_set_timescales() -> None:
    r = regime_for(RegimeCode.PCR2015_LIGHT_TOUCH)
    assert r.statutory_min_tender_days is None
    assert r.urgent_shortening_allowed
    assert "74-76" in r.tender_period_source
    assert "reg 75" in r.award_notice_source


def test_procurement_act_regimes_are_supported() -> None:
    # Issue 19: the dynamic market is no longer a refused placeholder.
    assert regime_for("pa2023_dynamic_market").supported
    assert regime_for("pa2023_open_framework").supported


def test_unknown_regime() -> None:
    with pytest.raises(DomainError) as e:
        regime_for("pcr2006")
    assert e.value.rule is Rule.UNKNOWN


def test_domain_error_is_api_ready() -> None:
    err = DomainError("deadline_at", Rule.DEADLINE_IN_PAST, "deadline is in the past")
    assert err.to_dict() == {
        "field": "deadline_at",
        "rule": "deadline_in_past",
        "message": "deadline is in the past",
    }


# --------------------------------------------------------------- validation


def test_created_scheme_is_draft() -> None:
    s = create_scheme(draft())
    assert s.status is SchemeStatus.DRAFT


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"term_end": date(2025, 1, 1)}, "term_end", Rule.OUT_OF_RANGE),
        ({"max_extension_end": date(2028, 1, 1)}, "max_extension_end", Rule.OUT_OF_RANGE),
        ({"categories": ()}, "categories", Rule.REQUIRED),
        ({"pass_mark": Decimal(101)}, "pass_mark", Rule.OUT_OF_RANGE),
        ({"title": "  "}, "title", Rule.REQUIRED),
        (
            {"lots": (Lot("a", "A", Decimal(50)), Lot("b", "B", Decimal(50)))},
            "lots",
            Rule.DUPLICATE,
        ),
        ({"lots": (Lot("a", "A", Decimal(120)),)}, "lots.a.min_quality_score", Rule.OUT_OF_RANGE),
        ({"urgent_min_tender_days": 0}, "urgent_min_tender_days", Rule.OUT_OF_RANGE),
        # An Act dynamic market cannot predate the Act (established_on before 24 Feb 2025).
        (
            {"regime": RegimeCode.PA2023_DYNAMIC_MARKET, "established_on": date(2025, 2, 23)},
            "established_on",
            Rule.OUT_OF_RANGE,
        ),
    ],
)
def test_scheme_validation(overrides: dict[str, object], field: str, rule: Rule) -> None:
    with pytest.raises(DomainError) as e:
        create_scheme(draft(**overrides))
    assert (e.value.field, e.value.rule) == (field, rule)


def test_pcr2015_scheme_cannot_set_a_tender_period_below_ten_days() -> None:
    with pytest.raises(DomainError) as e:
        create_scheme(draft(regime=RegimeCode.PCR2015, min_tender_days=7))
    assert e.value.field == "min_tender_days"


def test_light_touch_scheme_may_set_its_own_tender_period() -> None:
    s = create_scheme(draft(min_tender_days=7, urgent_min_tender_days=2))
    assert s.tender_days_floor == 7


def test_lots_need_scored_questions() -> None:
    only_pass_fail = scheme().selection_questions[:1]
    with pytest.raises(DomainError) as e:
        create_scheme(draft(selection_questions=only_pass_fail, pass_mark=Decimal(0)))
    assert e.value.field == "lots"


def test_lots_are_consulted_highest_threshold_first() -> None:
    assert [lot.code for lot in scheme().lots_by_tier] == ["lot2", "lot1"]


def test_late_joiner_default_is_half_the_minimum_tender_period() -> None:
    assert scheme().late_joiner_days == 5
    assert scheme(min_tender_days=15).late_joiner_days == 8
    assert scheme(late_joiner_min_days=3).late_joiner_days == 3


# ---------------------------------------------------------------- lifecycle


def test_draft_open_suspend_reopen_close() -> None:
    s = create_scheme(draft())
    s = open_scheme(s, TODAY)
    assert s.status is SchemeStatus.OPEN
    s = suspend_scheme(s, "review of selection criteria")
    assert (s.status, s.status_reason) == (SchemeStatus.SUSPENDED, "review of selection criteria")
    # Changed by issue 12: a suspended DPS still takes applications (reg 34(2)(b)).
    assert accepts_applications(s, TODAY)
    s = open_scheme(s, TODAY)
    assert s.status is SchemeStatus.OPEN and s.status_reason is None
    s = close_scheme(s, "replaced by a dynamic market")
    assert s.status is SchemeStatus.CLOSED


def test_closed_is_final() -> None:
    s = close_scheme(scheme(), "ended early")
    with pytest.raises(DomainError) as e:
        open_scheme(s, TODAY)
    assert e.value.rule is Rule.INVALID_TRANSITION


def test_suspension_needs_a_reason() -> None:
    with pytest.raises(DomainError) as e:
        suspend_scheme(scheme(), " ")
    assert (e.value.field, e.value.rule) == ("reason", Rule.REQUIRED)


def test_a_clash_with_the_state_is_a_conflict_and_a_bad_request_is_not() -> None:
    s = close_scheme(scheme(), "ended early")
    with pytest.raises(Conflict) as clash:  # 409
        open_scheme(s, TODAY)
    assert clash.value.rule in STATE_RULES
    with pytest.raises(DomainError) as bad:  # 422
        suspend_scheme(scheme(), " ")
    assert not isinstance(bad.value, Conflict) and bad.value.rule not in STATE_RULES


def test_only_an_open_scheme_can_be_suspended() -> None:
    with pytest.raises(DomainError):
        suspend_scheme(create_scheme(draft()), "why")


def test_cannot_open_after_the_term_ends() -> None:
    with pytest.raises(DomainError) as e:
        open_scheme(create_scheme(draft()), date(2029, 2, 24))
    assert e.value.rule is Rule.TERM_ENDED


def test_term_end_stops_applications() -> None:
    s = scheme()
    assert accepts_applications(s, date(2029, 2, 23))
    assert not accepts_applications(s, date(2029, 2, 24))


def extend(s: Scheme, today: date) -> Scheme:
    at = datetime(today.year, today.month, today.day, 12, tzinfo=LONDON)
    return extend_scheme_term(s, today, by="commissioner-1", reason="demand", now=at)


def test_extension_moves_the_term_end_once() -> None:
    s = extend(scheme(term_end=date(2027, 8, 31), max_extension_end=date(2028, 8, 31)), TODAY)
    assert s.term_end_effective == date(2028, 8, 31)
    assert accepts_applications(s, date(2028, 6, 1))
    with pytest.raises(DomainError) as e:
        extend(s, date(2027, 1, 2))
    assert e.value.rule is Rule.EXTENSION_NOT_AVAILABLE


def test_extension_must_be_exercised_before_the_term_ends() -> None:
    with pytest.raises(DomainError) as e:
        extend(
            scheme(term_end=date(2027, 8, 31), max_extension_end=date(2028, 8, 31)),
            date(2027, 9, 1),
        )
    assert e.value.rule is Rule.TERM_ENDED


def test_no_extension_without_one_in_the_notice() -> None:
    with pytest.raises(DomainError) as e:
        extend(scheme(max_extension_end=None), TODAY)
    assert e.value.rule is Rule.EXTENSION_NOT_AVAILABLE
