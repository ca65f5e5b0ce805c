"""Annual reviews aligned to the EHC plan: reminders, overdue, outcomes, moving the date."""

from __future__ import annotations

from datetime import date

import pytest

from services.placements import domain as d
from shared.contracts.placements_v1 import PlacementStatus, ReviewOutcome

from .factories import AT, OFFICER, active_placement, placement

DUE = date(2026, 11, 2)


def test_schedule_aligned_to_the_plan_review_date() -> None:
    assert d.first_review_due(date(2025, 11, 2), date(2026, 4, 20)) == DUE
    assert d.annual_review_dates(DUE, date(2029, 4, 19)) == [
        DUE,
        date(2027, 11, 2),
        date(2028, 11, 2),
    ]
    assert d.add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)


def test_reminders_six_and_two_weeks_before() -> None:
    assert d.review_reminder_dates(DUE) == (date(2026, 9, 21), date(2026, 10, 19))
    review = d.Review("r1", DUE)
    assert d.reminders_due(review, date(2026, 9, 20)) == ()
    assert d.reminders_due(review, date(2026, 9, 21)) == (6,)
    assert d.reminders_due(review, date(2026, 10, 19)) == (6, 2)


def test_review_states() -> None:
    review = d.Review("r1", DUE)
    assert d.review_state(review, date(2026, 9, 20)) is d.ReviewState.SCHEDULED
    assert d.review_state(review, date(2026, 9, 21)) is d.ReviewState.DUE
    assert d.review_state(review, DUE) is d.ReviewState.DUE
    assert d.review_state(review, date(2026, 11, 3)) is d.ReviewState.OVERDUE
    assert d.days_overdue(review, date(2026, 11, 12)) == 10
    done = d.Review("r1", DUE, completed_on=DUE, outcome=ReviewOutcome.CONTINUE)
    assert d.review_state(done, date(2027, 1, 1)) is d.ReviewState.COMPLETED
    assert d.days_overdue(done, date(2027, 1, 1)) == 0


def test_continue_outcome_schedules_the_next_annual_review() -> None:
    p = active_placement()
    after = d.record_review_outcome(p, "pl-1-R1", ReviewOutcome.CONTINUE, DUE, OFFICER, AT)
    assert after.reviews[0].outcome is ReviewOutcome.CONTINUE
    assert after.reviews[0].recorded_by == OFFICER
    # Within the 12 months starting with the day the review was held (CFA 2014 s.44).
    assert [(r.review_id, r.due_on) for r in d.open_reviews(after)] == [
        ("pl-1-R2", date(2027, 11, 1))
    ]
    assert d.review_changes(p, after) == (after.reviews[1],)


def test_end_outcome_gives_notice() -> None:
    after = d.record_review_outcome(
        active_placement(), "pl-1-R1", ReviewOutcome.END, DUE, OFFICER, AT
    )
    assert after.status is PlacementStatus.ENDING
    assert after.end_date == date(2027, 1, 25)  # 12 weeks after the review
    assert d.open_reviews(after) == ()


@pytest.mark.parametrize(
    ("completed_on", "rule"),
    [(date(2026, 9, 20), "review_not_due"), (date(2026, 9, 21), None)],
)
def test_outcome_too_early_is_refused(completed_on: date, rule: str | None) -> None:
    p = active_placement()
    if rule is None:
        d.record_review_outcome(p, "pl-1-R1", ReviewOutcome.VARY, completed_on, OFFICER, AT)
        return
    with pytest.raises(d.DomainError) as caught:
        d.record_review_outcome(p, "pl-1-R1", ReviewOutcome.VARY, completed_on, OFFICER, AT)
    assert (caught.value.field, caught.value.rule) == ("completed_on", rule)


def test_outcome_twice_unknown_review_or_not_started_is_refused() -> None:
    p = d.record_review_outcome(
        active_placement(), "pl-1-R1", ReviewOutcome.CONTINUE, DUE, OFFICER, AT
    )
    with pytest.raises(d.DomainError) as twice:
        d.record_review_outcome(p, "pl-1-R1", ReviewOutcome.CONTINUE, DUE, OFFICER, AT)
    assert twice.value.rule == "review_already_completed"
    with pytest.raises(d.DomainError) as unknown:
        d.record_review_outcome(p, "nope", ReviewOutcome.CONTINUE, DUE, OFFICER, AT)
    assert (unknown.value.field, unknown.value.rule) == ("review_id", "unknown_review")
    with pytest.raises(d.DomainError) as pending:
        d.record_review_outcome(placement(), "pl-1-R1", ReviewOutcome.CONTINUE, DUE, OFFICER, AT)
    assert pending.value.rule == "placement_not_in_force"


def test_plan_reviewed_in_window_keeps_the_review_open_and_schedules_the_next() -> None:
    p = active_placement()
    moved = d.align_reviews_to_plan(p, date(2027, 10, 20), reviewed_on=date(2026, 10, 20))
    assert [(r.review_id, r.due_on) for r in d.open_reviews(moved)] == [
        ("pl-1-R1", DUE),
        ("pl-1-R2", date(2027, 10, 20)),
    ]
    done = d.record_review_outcome(moved, "pl-1-R1", ReviewOutcome.CONTINUE, DUE, OFFICER, AT)
    assert [r.due_on for r in d.open_reviews(done)] == [date(2027, 10, 20)]  # no duplicate


def test_plan_review_date_moved_early_moves_the_open_review() -> None:
    p = active_placement()
    moved = d.align_reviews_to_plan(p, date(2026, 7, 1), reviewed_on=date(2026, 5, 1))
    assert [(r.review_id, r.due_on) for r in moved.reviews] == [("pl-1-R1", date(2026, 7, 1))]
    amended = d.align_reviews_to_plan(p, date(2026, 12, 1))
    assert [(r.review_id, r.due_on) for r in amended.reviews] == [("pl-1-R1", date(2026, 12, 1))]
    assert d.review_changes(p, amended) == amended.reviews


def test_review_after_the_placement_ends_is_not_scheduled() -> None:
    p = active_placement(term_end=date(2026, 10, 31))
    assert p.reviews == ()
    assert d.align_reviews_to_plan(p, date(2026, 12, 1)).reviews == ()
