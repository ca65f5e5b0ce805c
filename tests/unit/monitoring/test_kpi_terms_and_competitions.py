"""Terms, KPI return deadlines (London working days) and the no-suitable-bid default rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.monitoring.domain import (
    DEFAULT_RULES,
    CompetitionWithoutSuitableBid,
    DomainError,
    evaluate_rules,
    first_term_due_after,
    kpi_return_deadline,
    next_term,
    term_of,
    term_window,
)
from shared.working_days import LONDON, working_day_deadline


@pytest.mark.parametrize(
    ("day", "term"),
    [
        (date(2026, 1, 1), "2026-spring"),
        (date(2026, 3, 31), "2026-spring"),
        (date(2026, 4, 1), "2026-summer"),
        (date(2026, 8, 31), "2026-summer"),
        (date(2026, 9, 1), "2026-autumn"),
        (date(2026, 12, 31), "2026-autumn"),
    ],
)
def test_term_of_a_day(day: date, term: str) -> None:
    assert term_of(day) == term


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2098, 12, 31)))
def test_every_day_is_in_its_terms_window_and_terms_follow_each_other(day: date) -> None:
    term = term_of(day)
    first, last = term_window(term)
    assert first <= day <= last
    assert term_window(next_term(term))[0] == last + timedelta(days=1)


def test_autumn_is_followed_by_next_years_spring() -> None:
    assert next_term("2025-autumn") == "2026-spring"
    with pytest.raises(DomainError, match="term"):
        next_term("2025-winter")


def test_kpi_return_deadline_is_end_of_tenth_london_working_day_after_term() -> None:
    # Autumn 2025 ends Wed 31 Dec; 1 Jan is a bank holiday, so day 1 is Fri 2 Jan and
    # day 10 is Thu 15 Jan 2026: due by the end of it.
    assert kpi_return_deadline("2025-autumn", working_day_deadline) == datetime(
        2026, 1, 16, tzinfo=LONDON
    )
    # Summer 2026 ends Mon 31 Aug (bank holiday, but the end day never counts anyway).
    assert kpi_return_deadline("2026-summer", working_day_deadline, 1) == datetime(
        2026, 9, 2, tzinfo=LONDON
    )
    with pytest.raises(DomainError, match="working_days"):
        kpi_return_deadline("2026-summer", working_day_deadline, 0)


def test_first_term_due_is_the_one_whose_deadline_is_still_ahead() -> None:
    # 10 January 2026: autumn 2025 returns are still due (until the end of 15 January).
    assert first_term_due_after(datetime(2026, 1, 10, tzinfo=UTC), working_day_deadline) == (
        "2025-autumn"
    )
    assert (
        first_term_due_after(datetime(2026, 1, 15, 23, 59, tzinfo=LONDON), working_day_deadline)
        == "2025-autumn"
    )
    # 16 January 00:00 London: autumn's deadline has passed; spring 2026 is next.
    assert (
        first_term_due_after(datetime(2026, 1, 16, tzinfo=LONDON), working_day_deadline)
        == "2026-spring"
    )


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 1, 1)))
def test_first_term_due_deadline_is_ahead_and_the_previous_has_passed(now: datetime) -> None:
    now = now.replace(tzinfo=UTC)
    term = first_term_due_after(now, working_day_deadline)
    assert kpi_return_deadline(term, working_day_deadline) > now
    first, _ = term_window(term)
    previous = term_of(first - timedelta(days=1))
    assert kpi_return_deadline(previous, working_day_deadline) <= now


def _no_bid(**overrides: object) -> CompetitionWithoutSuitableBid:
    fields: dict[str, object] = {
        "evidence_id": "e-1",
        "competition_id": "C1",
        "placement_id": "need-1",
        "closed_on": date(2026, 1, 19),
        "bids_received": 2,
    }
    return CompetitionWithoutSuitableBid.model_validate(fields | overrides)


def test_no_suitable_bid_with_no_tier_left_is_a_warning_on_the_need() -> None:
    (match,) = evaluate_rules(DEFAULT_RULES, _no_bid(next_action="escalate"))
    assert (match.rule_id, match.severity, match.target_id, match.cause) == (
        "competition-no-suitable-bid",
        "warning",
        "need-1",
        "no-suitable-bid:C1",
    )


def test_no_suitable_bid_going_to_a_lower_tier_or_without_a_need_raises_nothing() -> None:
    assert evaluate_rules(DEFAULT_RULES, _no_bid(next_action="reopen_lower_tier")) == []
    assert evaluate_rules(DEFAULT_RULES, _no_bid(placement_id=None)) == []
