"""Each shipped rule fires when it should, not when it shouldn't, at the thresholds."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.monitoring.domain import (
    DEFAULT_RULES,
    AlertTarget,
    Evidence,
    KpiReturnMissing,
    Severity,
    evaluate_rules,
    with_outcome_streak,
)

from .factories import document_expiry, incident, inspection, kpi_return, review_overdue, uplift


def fired(evidence: Evidence) -> dict[str, Severity]:
    return {m.rule_id: m.severity for m in evaluate_rules(DEFAULT_RULES, evidence)}


def test_default_rule_ids_are_unique_and_version_one() -> None:
    ids = [rule.rule_id for rule in DEFAULT_RULES]
    assert len(ids) == len(set(ids))
    assert {rule.version for rule in DEFAULT_RULES} == {1}


# Ofsted ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("framework", "judgement", "expected"),
    [
        ("four_point", "outstanding", {}),
        ("four_point", "good", {}),
        ("four_point", "requires_improvement", {"ofsted-requires-improvement": Severity.WARNING}),
        ("four_point", "inadequate", {"ofsted-inadequate": Severity.CRITICAL}),
        ("report_card", "expected_standard", {}),
        ("report_card", "needs_attention", {"ofsted-requires-improvement": Severity.WARNING}),
        ("report_card", "urgent_improvement", {"ofsted-inadequate": Severity.CRITICAL}),
        ("independent_school_standards", "met", {}),
        ("independent_school_standards", "not_met", {"ofsted-inadequate": Severity.CRITICAL}),
    ],
)
def test_ofsted_rules(framework: str, judgement: str, expected: dict[str, Severity]) -> None:
    assert fired(inspection(framework=framework, judgement=judgement)) == expected


def test_ofsted_alert_targets_the_provider_and_names_the_inspection() -> None:
    (match,) = evaluate_rules(DEFAULT_RULES, inspection(judgement="inadequate"))
    assert match.target is AlertTarget.PROVIDER
    assert match.target_id == "P1"
    assert match.cause == "inspection:2025-10-01"
    assert match.evidence_ref == "ofsted-1"


# Safeguarding ---------------------------------------------------------------------


@pytest.mark.parametrize("severity", ["low", "medium", "high"])
def test_every_safeguarding_incident_is_critical(severity: str) -> None:
    assert fired(incident(severity=severity)) == {"safeguarding-incident": Severity.CRITICAL}


def test_a_complaint_is_not_a_safeguarding_alert() -> None:
    assert fired(incident(category="complaint", severity="high")) == {}


def test_each_safeguarding_incident_is_its_own_cause() -> None:
    first = evaluate_rules(DEFAULT_RULES, incident(evidence_id="inc-1"))[0]
    second = evaluate_rules(DEFAULT_RULES, incident(evidence_id="inc-2"))[0]
    assert first.dedupe_key != second.dedupe_key


# Attendance -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attendance", "expected"),
    [
        (100.0, {}),
        (90.0, {}),
        (89.99, {"kpi-attendance-below-90": Severity.WARNING}),
        (80.0, {"kpi-attendance-below-90": Severity.WARNING}),
        (79.99, {"kpi-attendance-below-80": Severity.CRITICAL}),
        (0.0, {"kpi-attendance-below-80": Severity.CRITICAL}),
    ],
)
def test_attendance_rules_at_thresholds(attendance: float, expected: dict[str, Severity]) -> None:
    assert fired(kpi_return(attendance_pct=attendance)) == expected


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_attendance_raises_at_most_one_band(attendance: float) -> None:
    rules = fired(kpi_return(attendance_pct=attendance))
    if attendance >= 90:
        assert rules == {}
    elif attendance >= 80:
        assert rules == {"kpi-attendance-below-90": Severity.WARNING}
    else:
        assert rules == {"kpi-attendance-below-80": Severity.CRITICAL}


def test_attendance_alert_targets_the_placement() -> None:
    (match,) = evaluate_rules(DEFAULT_RULES, kpi_return(attendance_pct=70))
    assert (match.target, match.target_id, match.provider_id) == (
        AlertTarget.PLACEMENT,
        "PL1",
        "P1",
    )


# Two consecutive "not met" outcome returns -----------------------------------------


def test_outcomes_rule_fires_on_the_second_consecutive_not_met() -> None:
    autumn = kpi_return(term="2025-autumn", outcomes_progress="not_met", evidence_id="k1")
    spring = kpi_return(term="2026-spring", outcomes_progress="not_met", evidence_id="k2")
    first = with_outcome_streak(autumn, [])
    second = with_outcome_streak(spring, [autumn])
    assert first.consecutive_not_met == 1
    assert "kpi-outcomes-not-met-twice" not in fired(first)
    assert second.consecutive_not_met == 2
    assert fired(second)["kpi-outcomes-not-met-twice"] is Severity.WARNING


def test_outcomes_rule_does_not_fire_when_a_return_in_between_was_partly_met() -> None:
    history = [
        kpi_return(term="2025-summer", outcomes_progress="not_met", evidence_id="k0"),
        kpi_return(term="2025-autumn", outcomes_progress="partly", evidence_id="k1"),
    ]
    spring = with_outcome_streak(
        kpi_return(term="2026-spring", outcomes_progress="not_met", evidence_id="k2"), history
    )
    assert spring.consecutive_not_met == 1
    assert "kpi-outcomes-not-met-twice" not in fired(spring)


def test_outcomes_rule_needs_the_streak_computed() -> None:
    uncomputed = kpi_return(outcomes_progress="not_met")
    assert uncomputed.consecutive_not_met is None
    assert "kpi-outcomes-not-met-twice" not in fired(uncomputed)


# Reviews, documents, uplifts, missing returns --------------------------------------


@pytest.mark.parametrize(
    ("as_of", "fires"),
    [(date(2026, 1, 9), False), (date(2026, 1, 10), False), (date(2026, 1, 11), True)],
)
def test_review_overdue_from_the_day_after_it_was_due(as_of: date, fires: bool) -> None:
    evidence = review_overdue(due_on=date(2026, 1, 10), as_of=as_of)
    assert fired(evidence) == ({"review-overdue": Severity.WARNING} if fires else {})


@pytest.mark.parametrize(
    ("as_of", "fires"),
    [(date(2026, 1, 9), False), (date(2026, 1, 10), False), (date(2026, 1, 11), True)],
)
def test_document_expired_after_its_last_valid_day(as_of: date, fires: bool) -> None:
    evidence = document_expiry(expires_on=date(2026, 1, 10), as_of=as_of)
    assert fired(evidence) == ({"document-expired": Severity.WARNING} if fires else {})


@pytest.mark.parametrize(
    ("requested", "cap", "fires"),
    [(2.9, 3.0, False), (3.0, 3.0, False), (3.01, 3.0, True), (10.0, 3.0, True)],
)
def test_uplift_above_cap(requested: float, cap: float, fires: bool) -> None:
    evidence = uplift(requested_pct=requested, cap_pct=cap)
    assert fired(evidence) == ({"uplift-above-cap": Severity.INFO} if fires else {})


def test_missing_kpi_return_always_warns() -> None:
    missing = KpiReturnMissing(
        evidence_id="m1", provider_id="P1", placement_id="PL1", term="2025-autumn"
    )
    (match,) = evaluate_rules(DEFAULT_RULES, missing)
    assert (match.rule_id, match.severity, match.cause) == (
        "kpi-return-missing",
        Severity.WARNING,
        "kpi-missing:2025-autumn",
    )


def test_a_healthy_return_fires_nothing() -> None:
    assert fired(with_outcome_streak(kpi_return(), [])) == {}
