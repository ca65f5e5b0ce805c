"""The lifecycle workflow's pure step choice, including the patched renewal escalation."""

from __future__ import annotations

from datetime import date, timedelta

from services.placements.workflows import ReviewInfo, Snapshot, next_step

TERM_END = date(2027, 7, 31)


def snap(**overrides: object) -> Snapshot:
    values: dict[str, object] = {
        "placement_id": "pl-1",
        "status": "active",
        "start_date": date(2025, 9, 1),
        "term_end": TERM_END,
        "notice_period_weeks": 12,
    }
    values.update(overrides)
    return Snapshot.model_validate(values)


def test_renewal_is_asked_before_the_notice_deadline() -> None:
    step = next_step(snap())
    assert step is not None and step.kind == "renewal"
    assert step.on == TERM_END - timedelta(weeks=16)


def test_old_path_only_waits_for_the_term_end_after_asking() -> None:
    step = next_step(snap(renewal_requested_for=TERM_END))
    assert step is not None and step.kind == "end"


def test_patched_path_escalates_a_missing_decision_after_the_notice_deadline() -> None:
    step = next_step(snap(renewal_requested_for=TERM_END), renewal_overdue=True)
    assert step is not None and step.kind == "renewal_overdue"
    assert step.on == TERM_END - timedelta(weeks=12) + timedelta(days=1)
    sent = next_step(
        snap(renewal_requested_for=TERM_END, renewal_overdue_sent_for=TERM_END),
        renewal_overdue=True,
    )
    assert sent is not None and sent.kind == "end"
    ending = next_step(snap(status="ending", renewal_requested_for=TERM_END), renewal_overdue=True)
    assert ending is not None and ending.kind == "end"


def test_review_reminders_come_before_the_renewal() -> None:
    review = ReviewInfo(review_id="pl-1-R1", due_on=date(2026, 11, 2))
    step = next_step(snap(review=review))
    assert step is not None and (step.kind, step.weeks_before) == ("reminder", 6)
