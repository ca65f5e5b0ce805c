"""Individual placement agreements: validation, status machine, notice, renewal, cease."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.placements import domain as d
from shared.contracts.common import Attendance
from shared.contracts.placements_v1 import PlacementSource, PlacementStatus

from .factories import AT, OFFICER, active_placement, award, placement


def _refused(**overrides: Any) -> d.DomainError:
    with pytest.raises(d.DomainError) as caught:
        placement(**overrides)
    return caught.value


def test_award_builds_a_pending_placement_with_audit_and_first_review() -> None:
    p = placement()
    assert p.status is PlacementStatus.PENDING
    assert p.status_history == (
        d.StatusChange(None, PlacementStatus.PENDING, AT, OFFICER, "award"),
    )
    assert p.on_contract
    assert p.fee_on(p.start_date).total == Decimal("1900.00")
    assert [r.due_on for r in p.reviews] == [date(2026, 11, 2)]
    assert p.reviews[0].review_id == "pl-1-R1"


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"start_date": date(2026, 2, 28)}, "start_date", "start_before_award"),
        ({"term_end": date(2026, 4, 20)}, "term_end", "term_end_not_after_start"),
        ({"weekly_core_fee": Decimal("-0.01")}, "weekly_core_fee", "negative_amount"),
        ({"weekly_core_fee": Decimal("20000.01")}, "weekly_core_fee", "above_limit"),
        ({"weekly_core_fee": Decimal("100.005")}, "weekly_core_fee", "not_whole_pence"),
        ({"weekly_core_fee": Decimal("NaN")}, "weekly_core_fee", "not_a_number"),
        (
            {"additional_support": (d.SupportItem("nurse", Decimal("10000.01")),)},
            "additional_support[0].weekly_amount",
            "above_limit",
        ),
        (
            {"additional_support": (d.SupportItem("", Decimal("1")),)},
            "additional_support[0].description",
            "required",
        ),
        ({"weeks_per_year": 45}, "weeks_per_year", "weeks_per_year_invalid"),
        (
            {"attendance": Attendance.RESIDENTIAL_52, "weeks_per_year": 38},
            "weeks_per_year",
            "weeks_per_year_mismatch_attendance",
        ),
        ({"notice_period_weeks": 53}, "notice_period_weeks", "notice_period_out_of_range"),
        ({"competition_ref": None}, "competition_ref", "required"),
        (
            {"source": PlacementSource.BLOCK_CONTRACT, "block_contract_id": None},
            "block_contract_id",
            "required",
        ),
    ],
)
def test_award_validation(overrides: dict[str, Any], field: str, rule: str) -> None:
    error = _refused(**overrides)
    assert (error.field, error.rule) == (field, rule)
    assert error.to_dict()["field"] == field


def test_limits_are_inclusive_and_spot_needs_no_refs() -> None:
    p = placement(
        weekly_core_fee=d.MAX_WEEKLY_CORE_FEE,
        source=PlacementSource.SPOT,
        scheme_ref=None,
        competition_ref=None,
    )
    assert not p.on_contract


def test_pending_active_ending_ended_with_who_when_why() -> None:
    p = active_placement()
    assert p.status is PlacementStatus.ACTIVE
    notice_day = date(2027, 1, 4)
    ending = d.give_notice(p, notice_day, OFFICER, AT, "needs better met elsewhere")
    assert ending.status is PlacementStatus.ENDING
    assert ending.end_date == date(2027, 3, 29)  # 12 weeks' notice
    assert ending.status_history[-1].reason == "needs better met elsewhere"
    with pytest.raises(d.DomainError) as early:
        d.complete_end(ending, date(2027, 3, 29), OFFICER, AT)
    assert early.value.rule == "end_date_not_reached"
    ended = d.complete_end(ending, date(2027, 3, 30), OFFICER, AT)
    assert ended.status is PlacementStatus.ENDED
    assert [c.to_status for c in ended.status_history] == [
        PlacementStatus.PENDING,
        PlacementStatus.ACTIVE,
        PlacementStatus.ENDING,
        PlacementStatus.ENDED,
    ]


def test_ending_an_already_ended_placement_is_refused() -> None:
    ending = d.give_notice(active_placement(), date(2027, 1, 4), OFFICER, AT, "reason")
    ended = d.complete_end(ending, date(2027, 6, 1), OFFICER, AT)
    for attempt in (
        lambda: d.give_notice(ended, date(2027, 6, 1), OFFICER, AT, "again"),
        lambda: d.complete_end(ended, date(2027, 6, 2), OFFICER, AT),
        lambda: d.terminate_placement(ended, date(2027, 6, 1), OFFICER, AT, "again"),
    ):
        with pytest.raises(d.DomainError) as caught:
            attempt()
        assert (caught.value.field, caught.value.rule) == ("status", "already_ended")


def test_notice_twice_and_notice_on_pending_are_refused() -> None:
    ending = d.give_notice(active_placement(), date(2027, 1, 4), OFFICER, AT, "reason")
    with pytest.raises(d.DomainError) as twice:
        d.give_notice(ending, date(2027, 1, 5), OFFICER, AT, "reason")
    assert twice.value.rule == "already_ending"
    with pytest.raises(d.DomainError) as pending:
        d.give_notice(placement(), date(2026, 4, 1), OFFICER, AT, "reason")
    assert pending.value.rule == "not_active"


def test_why_and_who_are_required() -> None:
    with pytest.raises(d.DomainError) as caught:
        d.give_notice(active_placement(), date(2027, 1, 4), OFFICER, AT, " ")
    assert (caught.value.field, caught.value.rule) == ("reason", "required")
    with pytest.raises(d.DomainError) as nobody:
        d.give_notice(active_placement(), date(2027, 1, 4), "", AT, "reason")
    assert nobody.value.field == "by"


def test_notice_never_runs_past_term_end_and_drops_later_reviews() -> None:
    p = active_placement(term_end=date(2027, 1, 31))
    ending = d.give_notice(p, date(2026, 12, 1), OFFICER, AT, "reason")
    assert ending.end_date == date(2027, 1, 31)
    assert d.notice_end_date(date(2026, 12, 1), 12) == date(2027, 2, 23)
    kept = d.give_notice(active_placement(), date(2026, 9, 1), OFFICER, AT, "reason")
    assert kept.end_date == date(2026, 11, 24)
    assert [r.due_on for r in d.open_reviews(kept)] == [date(2026, 11, 2)]  # before the end
    dropped = d.give_notice(active_placement(), date(2026, 6, 1), OFFICER, AT, "reason")
    assert dropped.end_date == date(2026, 8, 24)
    assert d.open_reviews(dropped) == ()  # the 2 November review falls after the end


def test_start_rules() -> None:
    pending = placement()
    with pytest.raises(d.DomainError) as early:
        d.start_placement(pending, date(2026, 4, 19), OFFICER, AT)
    assert (early.value.field, early.value.rule) == ("started_on", "start_before_agreed_start")
    active = d.start_placement(pending, date(2026, 4, 21), OFFICER, AT)
    with pytest.raises(d.DomainError) as again:
        d.start_placement(active, date(2026, 4, 22), OFFICER, AT)
    assert again.value.rule == "not_pending"


def test_termination_before_start_commits_nothing() -> None:
    terminated = d.terminate_placement(placement(), date(2026, 4, 1), OFFICER, AT, "withdrawn")
    assert terminated.status is PlacementStatus.TERMINATED
    assert terminated.last_day is None
    assert d.committed_spend_by_financial_year(terminated) == {}
    assert terminated.reviews == ()


def test_termination_without_notice_ends_that_day() -> None:
    terminated = d.terminate_placement(
        active_placement(), date(2026, 6, 30), OFFICER, AT, "safeguarding"
    )
    assert terminated.end_date == date(2026, 6, 30)
    with pytest.raises(d.DomainError) as caught:
        d.terminate_placement(active_placement(), date(2026, 4, 1), OFFICER, AT, "x")
    assert caught.value.rule == "termination_before_start"


def test_active_placement_reaching_term_end_ends_via_ending() -> None:
    p = active_placement(term_end=date(2026, 7, 31))
    ended = d.complete_end(p, date(2026, 8, 1), "system", AT)
    assert [c.to_status for c in ended.status_history][-2:] == [
        PlacementStatus.ENDING,
        PlacementStatus.ENDED,
    ]
    assert ended.end_date == date(2026, 7, 31)


def test_renewal_decision_date_is_term_end_less_notice_less_lead() -> None:
    # 19 April 2029 - 12 weeks - 4 weeks = 16 weeks earlier.
    assert d.renewal_decision_date(date(2029, 4, 19), 12) == date(2028, 12, 28)
    assert d.renewal_decision_date(date(2029, 4, 19), 12, lead_weeks=0) == date(2029, 1, 25)


def test_renew_and_decline() -> None:
    p = active_placement()
    renewed = d.renew_placement(p, date(2031, 4, 19), OFFICER, AT, "meeting needs well")
    assert renewed.term_end == date(2031, 4, 19)
    assert renewed.status_history[-1].to_status is PlacementStatus.ACTIVE
    with pytest.raises(d.DomainError) as caught:
        d.renew_placement(p, date(2029, 4, 19), OFFICER, AT, "same")
    assert caught.value.rule == "not_after_term_end"
    declined = d.decline_renewal(p, date(2028, 12, 28), OFFICER, AT, "move to post-16")
    assert declined.status is PlacementStatus.ENDING
    assert declined.end_date == p.term_end


def test_ceased_plan_ends_the_childs_placements() -> None:
    pending = placement()
    active = active_placement()
    already = d.give_notice(active_placement(), date(2027, 5, 1), OFFICER, AT, "reason")
    ended = d.complete_end(
        d.give_notice(active_placement(), date(2026, 5, 1), OFFICER, AT, "r"),
        date(2026, 9, 1),
        OFFICER,
        AT,
    )
    changed = d.end_placements_for_ceased_plan(
        [pending, active, already, ended], date(2027, 7, 31), "council", AT
    )
    assert len(changed) == 2  # the notice already given ends earlier; ended is untouched
    terminated, ending = changed
    assert terminated.status is PlacementStatus.TERMINATED
    assert ending.status is PlacementStatus.ENDING
    assert ending.end_date == date(2027, 7, 31)
    assert "EHC plan ceased" in ending.status_history[-1].reason


def test_ceased_plan_brings_a_later_end_forward() -> None:
    ending = d.decline_renewal(active_placement(), date(2028, 1, 1), OFFICER, AT, "no renewal")
    (moved,) = d.end_placements_for_ceased_plan([ending], date(2028, 2, 29), "council", AT)
    assert moved.end_date == date(2028, 2, 29)
    assert moved.status is PlacementStatus.ENDING


def test_award_fixture_is_valid() -> None:
    assert award().weeks_per_year == 38
