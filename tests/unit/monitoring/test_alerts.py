"""Alerts: one per cause, open -> acknowledged -> resolved, assignment, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.monitoring.domain import (
    DEFAULT_RULES,
    Alert,
    AlertStatus,
    DomainError,
    RuleMatch,
    Severity,
    escalation_deadline,
    evaluate_rules,
    needs_escalation,
    raise_alert,
    raise_alerts,
)
from shared.working_days import LONDON, working_day_deadline

from .factories import NOW, alert, incident, kpi_return

LATER = NOW + timedelta(hours=2)


def match_for_low_attendance(term: str = "2025-autumn") -> RuleMatch:
    (match,) = evaluate_rules(DEFAULT_RULES, kpi_return(attendance_pct=70, term=term))
    return match


# Dedupe ---------------------------------------------------------------------------


def test_raise_alert_opens_an_alert_from_a_match() -> None:
    match = match_for_low_attendance()
    raised = raise_alert(match, alert_id="A1", now=NOW, open_alerts=[])
    assert raised is not None
    assert raised.status is AlertStatus.OPEN
    assert raised.dedupe_key == "kpi-attendance-below-80|placement:PL1|attendance-below-80"
    assert (raised.severity, raised.evidence_refs, raised.raised_at) == (
        Severity.CRITICAL,
        ("kpi-1",),
        NOW,
    )


def test_same_cause_raises_once_while_unresolved() -> None:
    first = raise_alert(match_for_low_attendance(), alert_id="A1", now=NOW, open_alerts=[])
    assert first is not None
    # next term, still low: the same cause, so no second alert
    again = match_for_low_attendance(term="2026-spring")
    assert raise_alert(again, alert_id="A2", now=LATER, open_alerts=[first]) is None
    acknowledged = first.acknowledge("officer-1", LATER)
    assert raise_alert(again, alert_id="A2", now=LATER, open_alerts=[acknowledged]) is None


def test_the_cause_can_alert_again_once_resolved() -> None:
    first = raise_alert(match_for_low_attendance(), alert_id="A1", now=NOW, open_alerts=[])
    assert first is not None
    resolved = first.acknowledge("officer-1", NOW).resolve("officer-1", "Plan agreed", LATER)
    again = raise_alert(
        match_for_low_attendance(), alert_id="A2", now=LATER, open_alerts=[resolved]
    )
    assert again is not None and again.alert_id == "A2"


def test_different_causes_or_targets_raise_separate_alerts() -> None:
    matches = [
        *evaluate_rules(DEFAULT_RULES, incident(evidence_id="inc-1")),
        *evaluate_rules(DEFAULT_RULES, incident(evidence_id="inc-2")),
        *evaluate_rules(DEFAULT_RULES, incident(evidence_id="inc-1", provider_id="P2")),
    ]
    raised = raise_alerts(matches, open_alerts=[], now=NOW, new_alert_id=lambda m: m.dedupe_key)
    assert len(raised) == 3


def test_raise_alerts_dedupes_within_a_batch() -> None:
    match = match_for_low_attendance()
    ids = iter(["A1", "A2"])
    raised = raise_alerts([match, match], open_alerts=[], now=NOW, new_alert_id=lambda _: next(ids))
    assert [a.alert_id for a in raised] == ["A1"]


def test_further_evidence_is_attached_once() -> None:
    opened = alert()
    assert opened.with_evidence("inc-9").with_evidence("inc-9").evidence_refs == ("inc-1", "inc-9")


def test_naive_times_are_refused() -> None:
    with pytest.raises(DomainError) as caught:
        raise_alert(
            match_for_low_attendance(), alert_id="A1", now=datetime(2026, 1, 1), open_alerts=[]
        )
    assert (caught.value.field, caught.value.rule) == ("now", "must be timezone-aware")
    with pytest.raises(DomainError, match="raised_at"):
        alert(raised_at=datetime(2026, 1, 1))


# State transitions --------------------------------------------------------------------


def test_acknowledge_then_resolve() -> None:
    opened = alert()
    acknowledged = opened.acknowledge("officer-1", NOW)
    resolved = acknowledged.resolve("officer-1", "Visited; safeguarding plan in place", LATER)
    assert opened.status is AlertStatus.OPEN  # transitions do not mutate
    assert acknowledged.status is AlertStatus.ACKNOWLEDGED
    assert (acknowledged.acknowledged_by, acknowledged.assigned_to) == ("officer-1", "officer-1")
    assert resolved.status is AlertStatus.RESOLVED
    assert (resolved.resolved_by, resolved.resolved_at) == ("officer-1", LATER)
    assert resolved.outcome == "Visited; safeguarding plan in place"
    assert not resolved.is_unresolved


def test_resolve_needs_an_outcome() -> None:
    acknowledged = alert().acknowledge("officer-1", NOW)
    with pytest.raises(DomainError) as caught:
        acknowledged.resolve("officer-1", "   ", LATER)
    assert caught.value.field == "outcome"
    with pytest.raises(DomainError, match="outcome"):
        acknowledged.resolve("officer-1", "Name: Jane Smith moved", LATER)


def test_resolve_needs_acknowledgement_first() -> None:
    with pytest.raises(DomainError, match="acknowledge the alert before resolving"):
        alert().resolve("officer-1", "done", LATER)


def test_resolving_a_resolved_alert_is_refused() -> None:
    resolved = alert().acknowledge("o", NOW).resolve("o", "done", LATER)
    with pytest.raises(DomainError) as caught:
        resolved.resolve("o", "again", LATER)
    assert (caught.value.field, caught.value.rule) == (
        "status",
        "a resolved alert cannot be resolved again",
    )


def test_acknowledging_twice_or_after_resolution_is_refused() -> None:
    acknowledged = alert().acknowledge("o", NOW)
    with pytest.raises(DomainError, match="already acknowledged"):
        acknowledged.acknowledge("o", LATER)
    with pytest.raises(DomainError, match="cannot be acknowledged"):
        acknowledged.resolve("o", "done", LATER).acknowledge("o", LATER)


def test_assignment_to_an_officer() -> None:
    assigned = alert().assign("officer-2", NOW)
    assert (assigned.assigned_to, assigned.assigned_at) == ("officer-2", NOW)
    reassigned = assigned.assign("officer-3", LATER)
    assert reassigned.assigned_to == "officer-3"
    # acknowledging keeps an existing assignee
    assert reassigned.acknowledge("officer-1", LATER).assigned_to == "officer-3"
    with pytest.raises(DomainError) as caught:
        alert().assign(" ", NOW)
    assert caught.value.field == "officer_id"
    resolved = alert().acknowledge("o", NOW).resolve("o", "done", LATER)
    with pytest.raises(DomainError, match="cannot be assigned"):
        resolved.assign("officer-2", LATER)


def test_time_cannot_run_backwards() -> None:
    with pytest.raises(DomainError, match="before the alert was raised"):
        alert().acknowledge("o", NOW - timedelta(seconds=1))


# Escalation -------------------------------------------------------------------------


DEADLINE = NOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DEADLINE - timedelta(seconds=1), False),
        (DEADLINE, True),
        (DEADLINE + timedelta(days=3), True),
    ],
)
def test_critical_unacknowledged_alert_escalates_at_the_deadline(
    now: datetime, expected: bool
) -> None:
    assert needs_escalation(alert(), now, DEADLINE) is expected


def test_only_open_critical_unescalated_alerts_escalate() -> None:
    after = DEADLINE + timedelta(hours=1)
    assert not needs_escalation(alert(severity=Severity.WARNING), after, DEADLINE)
    assert not needs_escalation(alert().acknowledge("o", NOW), after, DEADLINE)
    escalated = alert().escalate(after, escalated_to="head-of-send")
    assert escalated.escalated_to == "head-of-send"
    assert not needs_escalation(escalated, after, DEADLINE)
    with pytest.raises(DomainError, match="already escalated"):
        escalated.escalate(after)


@given(offset_minutes=st.integers(min_value=-10_000, max_value=10_000))
def test_escalation_is_exactly_at_or_after_the_deadline(offset_minutes: int) -> None:
    now = DEADLINE + timedelta(minutes=offset_minutes)
    assert needs_escalation(alert(), now, DEADLINE) is (offset_minutes >= 0)


def test_escalation_deadline_uses_the_supplied_calendar() -> None:
    calls: list[tuple[datetime, int]] = []

    def deadline_of(start: datetime, n: int) -> datetime:
        calls.append((start, n))
        return datetime(2026, 1, 15, tzinfo=LONDON)

    deadline = escalation_deadline(alert(), deadline_of, working_days=2)
    assert calls == [(alert().raised_at, 2)]
    assert deadline == datetime(2026, 1, 15, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("raised_at", "expected"),
    [
        # Monday morning: end of Tuesday, London time.
        (datetime(2026, 1, 12, 9, 30, tzinfo=UTC), datetime(2026, 1, 14, tzinfo=LONDON)),
        # Friday afternoon: the weekend does not count; end of Monday.
        (datetime(2026, 1, 16, 15, 0, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=LONDON)),
        # Saturday: day 1 is Monday, whatever the raising day.
        (datetime(2026, 1, 17, 11, 0, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=LONDON)),
        # 23:30 UTC on Monday 1 June 2026 is already Tuesday in London (BST): end of Wed.
        (datetime(2026, 6, 1, 23, 30, tzinfo=UTC), datetime(2026, 6, 4, tzinfo=LONDON)),
        # Thursday before Easter 2026: Good Friday and Easter Monday are bank holidays.
        (datetime(2026, 4, 2, 10, 0, tzinfo=UTC), datetime(2026, 4, 8, tzinfo=LONDON)),
        # Christmas Eve 2026 (Thursday): 25 Dec and the 28 Dec substitute day are off.
        (datetime(2026, 12, 24, 10, 0, tzinfo=UTC), datetime(2026, 12, 30, tzinfo=LONDON)),
    ],
)
def test_one_working_day_is_the_end_of_the_next_london_working_day(
    raised_at: datetime, expected: datetime
) -> None:
    raised = alert().model_copy(update={"raised_at": raised_at})
    deadline = escalation_deadline(raised, working_day_deadline)
    assert deadline == expected
    assert deadline == working_day_deadline(raised_at, 1)
    # Exclusive instant: still on time a moment before, escalates from the instant on.
    assert not needs_escalation(raised, deadline - timedelta(microseconds=1), deadline)
    assert needs_escalation(raised, deadline, deadline)


def test_escalation_needs_at_least_one_working_day() -> None:
    with pytest.raises(DomainError, match="working_days"):
        escalation_deadline(alert(), working_day_deadline, working_days=0)


def test_escalation_needs_aware_times() -> None:
    with pytest.raises(DomainError, match="deadline"):
        needs_escalation(alert(), NOW, datetime(2026, 1, 13))


def test_alert_round_trips_through_json() -> None:
    original = alert().acknowledge("o", NOW)
    assert Alert.model_validate_json(original.model_dump_json()) == original
