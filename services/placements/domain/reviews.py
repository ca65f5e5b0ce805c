"""Placements: annual placement reviews (aligned to the EHC plan's review, CFA 2014 s.44)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from services.placements.domain._rules import (
    REVIEW_REMINDER_WEEKS,
    REVIEW_WINDOW_WEEKS,
    _require,
    _require_aware,
    _require_text,
    add_weeks,
    statutory_review_latest,
)
from services.placements.domain.placements import (
    _CLOSED,
    Placement,
    Review,
    ReviewState,
    _with_review,
    give_notice,
)
from shared.contracts.placements_v1 import (
    PlacementStatus,
    ReviewOutcome,
)


def review_reminder_dates(due_on: date) -> tuple[date, ...]:
    """Reminder dates before a review: 6 and 2 weeks before it is due."""
    return tuple(add_weeks(due_on, -weeks) for weeks in REVIEW_REMINDER_WEEKS)


def review_window_opens(due_on: date) -> date:
    """First day an outcome may be recorded (6 weeks before the due date)."""
    return add_weeks(due_on, -REVIEW_WINDOW_WEEKS)


def review_state(review: Review, today: date) -> ReviewState:
    """scheduled, due (in the window), overdue (past due, no outcome) or completed."""
    if not review.is_open:
        return ReviewState.COMPLETED
    if today > review.due_on:
        return ReviewState.OVERDUE
    if today >= review_window_opens(review.due_on):
        return ReviewState.DUE
    return ReviewState.SCHEDULED


def reminders_due(review: Review, today: date) -> tuple[int, ...]:
    """Weeks-before values (6, 2) whose reminder date has arrived for an open review."""
    if not review.is_open:
        return ()
    return tuple(w for w in REVIEW_REMINDER_WEEKS if today >= add_weeks(review.due_on, -w))


def days_overdue(review: Review, today: date) -> int:
    """Days past the due date without an outcome (0 when not overdue)."""
    if not review.is_open:
        return 0
    return max(0, (today - review.due_on).days)


def open_reviews(placement: Placement) -> tuple[Review, ...]:
    """Reviews with no outcome yet, earliest first."""
    return tuple(sorted((r for r in placement.reviews if r.is_open), key=lambda r: r.due_on))


def record_review_outcome(
    placement: Placement,
    review_id: str,
    outcome: ReviewOutcome,
    completed_on: date,
    by: str,
    at: datetime,
) -> Placement:
    """Record continue / vary / end for a review that is due.

    Refused for an unknown or already completed review, or one more than 6 weeks before
    its due date. ``continue``/``vary`` schedule the next annual review (a ``vary`` outcome
    is followed by ``vary_placement``); ``end`` gives notice on the completion date.

    The next review is due within 12 months of the review actually held (``completed_on``),
    not of the previous due date (CFA 2014 s.44(1)(b)): a late review does not buy a
    longer gap, an early one brings the next forward.
    """
    _require_text(by, "by")
    _require_aware(at)
    review = placement.review(review_id)
    _require(review.is_open, "review_id", "review_already_completed", "review already completed")
    _require(
        placement.status in (PlacementStatus.ACTIVE, PlacementStatus.ENDING),
        "status",
        "placement_not_in_force",
        f"placement is {placement.status.value}",
    )
    opens = review_window_opens(review.due_on)
    _require(
        completed_on >= opens,
        "completed_on",
        "review_not_due",
        f"review is not due: outcomes can be recorded from {opens.isoformat()}",
    )
    done = replace(review, completed_on=completed_on, outcome=outcome, recorded_by=by)
    reviews = tuple(done if r.review_id == review_id else r for r in placement.reviews)
    updated = replace(placement, reviews=reviews)
    if outcome == ReviewOutcome.END:
        if updated.status == PlacementStatus.ACTIVE:
            return give_notice(updated, completed_on, by, at, "annual review outcome: end")
        return updated
    if not any(r.is_open and r.due_on > review.due_on for r in updated.reviews):
        latest = statutory_review_latest(completed_on)
        updated = _with_review(updated, latest, latest)
    return updated


def align_reviews_to_plan(
    placement: Placement,
    next_review_due: date,
    reviewed_on: date | None = None,
    statutory_latest: date | None = None,
) -> Placement:
    """Move placement reviews when the EHC plan's next review date moves.

    From ``ehc.plan.reviewed`` (``reviewed_on`` given): an open review whose window the
    plan review fell in (or that is overdue) stays open for the commissioner's outcome; any
    other open review moves to ``next_review_due`` (keeping its id), and the review after is
    scheduled there if none is. From an amendment (no ``reviewed_on``) the open review moves.

    The council's date is accepted even when later than the law allows; the review then
    carries ``statutory_latest`` (12 months from ``reviewed_on``, or as given) and is
    flagged ``beyond_statutory_limit``.
    """
    if placement.status in _CLOSED:
        return placement
    if statutory_latest is None and reviewed_on is not None:
        statutory_latest = statutory_review_latest(reviewed_on)
    awaiting = {
        r.review_id
        for r in open_reviews(placement)
        if reviewed_on is not None and reviewed_on >= review_window_opens(r.due_on)
    }
    movable = [r for r in open_reviews(placement) if r.review_id not in awaiting]
    last_day = placement.last_day
    fits = last_day is not None and next_review_due <= last_day
    kept: list[Review] = [r for r in placement.reviews if not r.is_open or r.review_id in awaiting]
    if movable and fits:
        kept.append(replace(movable[0], due_on=next_review_due, statutory_latest=statutory_latest))
    updated = replace(placement, reviews=tuple(kept))
    if fits and not any(r.is_open and r.due_on == next_review_due for r in updated.reviews):
        updated = _with_review(updated, next_review_due, statutory_latest)
    return updated


def review_changes(before: Placement, after: Placement) -> tuple[Review, ...]:
    """Open reviews in ``after`` that are new, moved or newly flagged: publish
    placement.review.scheduled."""
    old = {r.review_id: (r.due_on, r.statutory_latest) for r in before.reviews}
    return tuple(
        r for r in open_reviews(after) if old.get(r.review_id) != (r.due_on, r.statutory_latest)
    )
