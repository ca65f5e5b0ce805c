"""Issue 12, reviews: the next annual review is due within 12 months of the review actually
held (Children and Families Act 2014 s.44); a later council date is accepted but flagged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.placements import domain as d
from services.placements.events import review_scheduled_event
from shared.contracts.ehc_plans_v1 import EhcPlanReviewed
from shared.contracts.placements_v1 import ReviewOutcome

from .factories import AT, OFFICER, active_placement

DUE = date(2026, 11, 2)  # the factories' first review


def _held(on: date) -> d.Placement:
    return d.record_review_outcome(
        active_placement(), "pl-1-R1", ReviewOutcome.CONTINUE, on, OFFICER, AT
    )


def test_statutory_period_is_twelve_months_starting_with_the_day_held() -> None:
    assert d.statutory_review_latest(date(2025, 11, 3)) == date(2026, 11, 2)  # DESIGN example
    assert d.statutory_review_latest(date(2026, 1, 1)) == date(2026, 12, 31)


def test_review_held_early_brings_the_next_one_forward() -> None:
    after = _held(date(2026, 9, 28))  # 5 weeks before it was due
    [nxt] = d.open_reviews(after)
    assert nxt.due_on == date(2027, 9, 27)  # not 2 Nov 2027: 13 months after it was held
    assert nxt.statutory_latest == nxt.due_on and not nxt.beyond_statutory_limit


def test_review_held_late_runs_twelve_months_from_when_it_was_held() -> None:
    [nxt] = d.open_reviews(_held(date(2026, 12, 15)))
    assert nxt.due_on == date(2027, 12, 14)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-42, max_value=200))
def test_next_review_is_within_twelve_months_of_the_review_held(offset: int) -> None:
    held = DUE + timedelta(days=offset)
    [nxt] = d.open_reviews(_held(held))
    assert held < nxt.due_on < d.add_years(held, 1)
    assert nxt.due_on == d.add_years(held, 1) - timedelta(days=1)


def test_renewal_schedules_from_the_last_review_held() -> None:
    p = active_placement(term_end=date(2027, 4, 19))
    p = d.record_review_outcome(
        p, "pl-1-R1", ReviewOutcome.CONTINUE, date(2026, 10, 1), OFFICER, AT
    )
    assert not d.open_reviews(p)  # the next would fall after the term
    renewed = d.renew_placement(p, date(2029, 4, 19), OFFICER, AT, "good outcomes")
    assert [r.due_on for r in d.open_reviews(renewed)] == [date(2027, 9, 30)]


def test_council_date_beyond_twelve_months_is_kept_but_flagged() -> None:
    p = active_placement()
    late = date(2027, 12, 1)  # reviewed 1 Oct 2026: the law allows until 30 Sep 2027
    after = d.align_reviews_to_plan(p, late, reviewed_on=date(2026, 10, 1))
    # R1 (due 2 Nov 2026, whose window the plan review fell in) awaits its outcome.
    [moved] = [r for r in d.open_reviews(after) if r.review_id != "pl-1-R1"]
    assert moved.due_on == late  # accepted: it is the council's decision
    assert moved.statutory_latest == date(2027, 9, 30) and moved.beyond_statutory_limit
    event = review_scheduled_event(after, moved)
    assert event.beyond_statutory_limit and event.statutory_latest == date(2027, 9, 30)
    within = d.align_reviews_to_plan(p, date(2027, 9, 30), reviewed_on=date(2026, 10, 1))
    assert not any(r.beyond_statutory_limit for r in d.open_reviews(within))


def test_plan_record_flags_a_next_review_beyond_the_limit() -> None:
    reviewed = EhcPlanReviewed(
        child_ref="KCC-EHC-000123", reviewed_on=date(2026, 5, 1), next_review_due=date(2027, 6, 1)
    )
    plan = d.apply_plan_event(None, reviewed, datetime(2026, 5, 2, tzinfo=UTC)).plan
    assert plan.review_statutory_latest == date(2027, 4, 30)
    assert plan.next_review_beyond_limit
    ok = EhcPlanReviewed(
        child_ref="KCC-EHC-000123", reviewed_on=date(2026, 5, 1), next_review_due=date(2027, 4, 30)
    )
    assert not d.apply_plan_event(
        None, ok, datetime(2026, 5, 2, tzinfo=UTC)
    ).plan.next_review_beyond_limit
