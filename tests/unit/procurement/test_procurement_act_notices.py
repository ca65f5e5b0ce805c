"""Issue 19, notices as data: each step a regime requires a notice for owes one, with its
due date by the rule's source. PCR 2015 as before; the Procurement Act 2023's tender,
dynamic market, transparency, contract award/details/change/termination and procurement
termination notices; an overdue Act notice is marked once, like any other."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from services.procurement.domain import (
    NOTICE_KIND_WORDS,
    NOTICE_RULES,
    PA2023_OPEN_FRAMEWORK,
    NoticeKind,
    NoticeStatus,
    NoticeStep,
    RegimeCode,
    SchemeStatus,
    award_notice,
    close_scheme,
    contract_entered_on,
    extend_scheme_term,
    mark_notice_overdue,
    notice_form,
    notice_rules_for,
    record_notice,
    track_award_notice,
    track_award_notices,
    track_call_off_notices,
    track_period_notice,
    track_scheme_change,
    track_scheme_notices,
)
from services.procurement.domain.notice_rules import DueRule
from shared.contracts import procurement_v1
from shared.working_days import LONDON, london_date

from .builders import NOW, TODAY, scheme
from .test_procurement_award import approve

DM = RegimeCode.PA2023_DYNAMIC_MARKET


def dm_scheme(**overrides: object) -> object:
    """The builders' scheme, set up as a new dynamic market under the Act."""
    return replace(scheme(), regime=DM, imported=False, established_on=None, **overrides)


def of_scheme(**overrides: object) -> object:
    return replace(
        scheme(), regime=PA2023_OPEN_FRAMEWORK, imported=False, established_on=None, **overrides
    )


# -------------------------------------------------------------------- the table


def test_every_rule_cites_its_source_and_every_kind_has_words_and_a_contract_value() -> None:
    kinds = set(procurement_v1.NoticeKind.__args__)  # type: ignore[attr-defined]
    for r in NOTICE_RULES:
        assert r.source and r.due.words, r
        assert r.kind.value in kinds and NOTICE_KIND_WORDS[r.kind]
        if r.regime.startswith("pa2023"):
            assert (
                "Procurement Act 2023 s." in r.source and "Procurement Regulations 2024" in r.source
            )
            assert r.form.startswith("UK"), r
    assert set(NOTICE_KIND_WORDS) == set(NoticeKind)
    assert {k.value for k in NoticeKind} == kinds


@pytest.mark.parametrize(
    ("regime", "step", "kinds"),
    [
        (
            DM,
            NoticeStep.SCHEME_OPENED,
            ["dynamic_market_intention", "dynamic_market_establishment"],
        ),
        (DM, NoticeStep.SCHEME_EXTENDED, ["dynamic_market_modification"]),
        (DM, NoticeStep.SCHEME_CLOSED, ["dynamic_market_cessation"]),
        (DM, NoticeStep.CALL_OFF_OPENED, ["tender"]),
        (DM, NoticeStep.CALL_OFF_AWARDED, ["contract_award"]),
        (DM, NoticeStep.CONTRACT_ENTERED, ["contract_details"]),
        (
            "pa2023_direct_award",
            NoticeStep.DIRECT_AWARD_RECORDED,
            ["transparency", "contract_award", "contract_details"],
        ),
        (DM, NoticeStep.DIRECT_AWARD_RECORDED, []),  # a direct award is its own procedure
        (DM, NoticeStep.CONTRACT_CHANGED, ["contract_change"]),
        (DM, NoticeStep.CONTRACT_TERMINATED, ["contract_termination"]),
        (DM, NoticeStep.PROCUREMENT_TERMINATED, ["procurement_termination"]),
        (PA2023_OPEN_FRAMEWORK, NoticeStep.SCHEME_OPENED, ["tender"]),
        (PA2023_OPEN_FRAMEWORK, NoticeStep.SCHEME_REOPENED, ["tender"]),
        (PA2023_OPEN_FRAMEWORK, NoticeStep.SCHEME_CLOSED, ["contract_termination"]),
        (PA2023_OPEN_FRAMEWORK, NoticeStep.CALL_OFF_OPENED, []),  # s.46: no tender notice
        (RegimeCode.PCR2015, NoticeStep.CALL_OFF_AWARDED, ["award"]),
        (RegimeCode.PCR2015_LIGHT_TOUCH, NoticeStep.SCHEME_EXTENDED, ["dps_period_change"]),
        (RegimeCode.PCR2015, NoticeStep.SCHEME_OPENED, []),
    ],
)
def test_each_step_owes_the_notices_its_regime_requires(
    regime: str, step: NoticeStep, kinds: list[str]
) -> None:
    assert [r.kind.value for r in notice_rules_for(regime, step, light_touch=False)] == kinds


def test_a_light_touch_contract_owes_no_contract_change_notice() -> None:
    # Act s.75(6)(b).
    assert notice_rules_for(DM, NoticeStep.CONTRACT_CHANGED, light_touch=True) == []
    assert notice_rules_for(DM, NoticeStep.CONTRACT_TERMINATED, light_touch=True) != []


def test_due_dates_count_as_the_act_and_the_regulations_count_them() -> None:
    (details,) = notice_rules_for(DM, NoticeStep.CONTRACT_ENTERED, light_touch=False)
    entered = date(2026, 5, 1)
    # "30 days beginning with the day" the contract is entered into: that day is day 1.
    assert details.due.due_on(entered) == date(2026, 5, 30)
    assert details.due.due_on(entered, light_touch=True) == date(2026, 8, 28)  # 120 days
    (ended,) = notice_rules_for(DM, NoticeStep.CONTRACT_TERMINATED, light_touch=False)
    assert ended.due.due_on(entered) == date(2026, 5, 30)
    (award,) = notice_rules_for(DM, NoticeStep.CALL_OFF_AWARDED, light_touch=False)
    assert award.due.due_on(entered) == entered  # before the contract: on the day
    assert DueRule(30).due_on(entered) == date(2026, 5, 31)  # PCR "within 30 days of"
    assert notice_form(DM, NoticeKind.CONTRACT_DETAILS) == "UK7"


# ---------------------------------------------------------------- scheme steps


def test_opening_a_dynamic_market_owes_its_intention_and_establishment_notices() -> None:
    draft = dm_scheme(status=SchemeStatus.DRAFT)
    opened = replace(draft, status=SchemeStatus.OPEN)
    owed = track_scheme_change(draft, opened, TODAY)
    assert [(n.kind, n.due_on) for n in owed] == [
        (NoticeKind.DYNAMIC_MARKET_INTENTION, TODAY),
        (NoticeKind.DYNAMIC_MARKET_ESTABLISHMENT, TODAY),
    ]
    assert all(n.status is NoticeStatus.DUE and n.competition_id is None for n in owed)
    assert "s.39(2)" in owed[0].rule and "reg 25" in owed[0].rule
    assert len({n.notice_id for n in owed}) == 2
    # Reopening after a suspension establishes nothing; PCR and imported schemes owe none.
    suspended = replace(opened, status=SchemeStatus.SUSPENDED)
    assert track_scheme_change(suspended, opened, TODAY) == []
    pcr_draft = replace(scheme(), status=SchemeStatus.DRAFT, imported=False)
    assert track_scheme_change(pcr_draft, replace(pcr_draft, status=SchemeStatus.OPEN), TODAY) == []
    imported = replace(draft, imported=True)
    assert track_scheme_change(imported, replace(imported, status=SchemeStatus.OPEN), TODAY) == []


def test_opening_and_reopening_an_open_framework_owes_a_tender_notice_each_time() -> None:
    framework = of_scheme()
    (first,) = track_scheme_notices(framework, NoticeStep.SCHEME_OPENED, TODAY)
    (again,) = track_scheme_notices(framework, NoticeStep.SCHEME_REOPENED, TODAY, number=2)
    assert first.kind is again.kind is NoticeKind.TENDER
    assert "s.21(1)" in first.rule and "s.49" in first.rule and "reg 20" in first.rule
    assert first.notice_id != again.notice_id


def test_closing_a_dynamic_market_early_owes_its_cessation_notice_not_the_pcr_one() -> None:
    market = dm_scheme()
    closed = close_scheme(market, "replaced by a new market", by="head", now=NOW)
    n = track_period_notice(closed, len(closed.period_notices))
    assert n.kind is NoticeKind.DYNAMIC_MARKET_CESSATION and n.due_on == TODAY
    assert "s.39(5)" in n.rule
    # No second notice for the same close.
    assert track_scheme_change(market, closed, TODAY) == []
    # PCR 2015 exactly as before: a contract award notice within 30 days (reg 34(27)(b)).
    pcr = close_scheme(scheme(), "ended", by="head", now=NOW)
    old = track_period_notice(pcr, len(pcr.period_notices))
    assert old.kind is NoticeKind.DPS_PERIOD_CHANGE and old.due_on == TODAY + timedelta(days=30)


def test_a_dynamic_market_closed_after_its_term_ceased_on_its_last_day() -> None:
    market = dm_scheme(term_end=TODAY - timedelta(days=3), max_extension_end=None)
    closed = replace(market, status=SchemeStatus.CLOSED)
    (n,) = track_scheme_change(market, closed, TODAY)
    assert n.kind is NoticeKind.DYNAMIC_MARKET_CESSATION
    assert n.due_on == TODAY - timedelta(days=3)


def test_extending_a_dynamic_market_owes_a_modification_notice_and_a_framework_a_change() -> None:
    now = datetime(2028, 6, 1, 10, tzinfo=LONDON)
    market = dm_scheme(term_end=date(2028, 12, 31), max_extension_end=date(2029, 12, 31))
    extended = extend_scheme_term(market, london_date(now), by="head", reason="need", now=now)
    n = track_period_notice(extended, 1)
    assert n.kind is NoticeKind.DYNAMIC_MARKET_MODIFICATION and n.due_on == date(2028, 6, 1)
    framework = of_scheme(term_end=date(2028, 12, 31), max_extension_end=date(2029, 12, 31))
    changed = replace(framework, period_notices=extended.period_notices)
    f = track_period_notice(changed, 1)
    assert f.kind is NoticeKind.CONTRACT_CHANGE and "s.75(1)" in f.rule


# --------------------------------------------------------------- call-off award


def test_a_call_off_under_the_act_owes_contract_award_then_contract_details_notices() -> None:
    c, award = approve()
    market = dm_scheme()
    owed = track_award_notices(award_notice(award, market, c), market, award)
    awarded_on = london_date(award.approved_at)
    assert [(n.kind, n.competition_id) for n in owed] == [
        (NoticeKind.CONTRACT_AWARD, c.competition_id),
        (NoticeKind.CONTRACT_DETAILS, c.competition_id),
    ]
    assert owed[0].due_on == awarded_on
    # No standstill to wait for: entered into on award; 30 days beginning with that day.
    assert contract_entered_on(award) == awarded_on
    assert owed[1].due_on == awarded_on + timedelta(days=29)
    assert "s.53(1)" in owed[1].rule and "120 days" in owed[1].rule


def test_a_light_touch_market_owes_its_contract_details_in_120_days_and_no_change_notice() -> None:
    c, award = approve()
    market = dm_scheme(light_touch=True)
    _, details = track_award_notices(award_notice(award, market, c), market, award)
    assert details.due_on == london_date(award.approved_at) + timedelta(days=119)
    assert notice_rules_for(DM, NoticeStep.CONTRACT_CHANGED, light_touch=True) == []


def test_contract_details_are_due_from_the_end_of_standstill_where_the_award_waits() -> None:
    c, award = approve()
    ends = datetime(2026, 3, 20, 0, 0, tzinfo=LONDON)
    waiting = replace(award, contract_awaits_standstill=True, standstill_ends_at=ends)
    market = dm_scheme()
    _, details = track_award_notices(award_notice(waiting, market, c), market, waiting)
    assert details.due_on == date(2026, 4, 18)


def test_pcr_call_off_owes_its_award_notice_exactly_as_before() -> None:
    c, award = approve()
    s = scheme()
    (n,) = track_award_notices(award_notice(award, s, c), s, award)
    assert n == track_award_notice(award_notice(award, s, c), s)


# ------------------------------------------------------------------- overdue


def test_an_act_notice_is_overdue_after_its_due_day_once_and_can_be_published() -> None:
    c, award = approve()
    market = dm_scheme()
    _, details = track_award_notices(award_notice(award, market, c), market, award)
    end_of_due_day = datetime.combine(details.due_on, datetime.min.time(), LONDON) + timedelta(
        hours=23
    )
    assert mark_notice_overdue(details, end_of_due_day) is None
    overdue = mark_notice_overdue(details, end_of_due_day + timedelta(hours=2))
    assert overdue is not None and overdue.overdue_at is not None
    assert mark_notice_overdue(overdue, end_of_due_day + timedelta(days=1)) is None
    published = record_notice(
        overdue, NoticeStatus.PUBLISHED, by="officer", at=end_of_due_day + timedelta(days=2)
    )
    assert published.published_by == "officer" and published.status is NoticeStatus.PUBLISHED


def test_a_dynamic_market_call_off_owes_a_tender_notice_on_the_day_it_opens() -> None:
    (n,) = track_call_off_notices(dm_scheme(), "C-9", TODAY)
    assert (n.kind, n.competition_id, n.due_on) == (NoticeKind.TENDER, "C-9", TODAY)
    assert n.notice_id == "tender-C-9" and "reg 21" in n.rule
    assert track_call_off_notices(scheme(), "C-9", TODAY) == []  # PCR: the DPS notice
    assert track_call_off_notices(of_scheme(), "C-9", TODAY) == []  # s.46 selection
