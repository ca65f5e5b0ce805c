"""Suspension recommendation: failing Ofsted AND an unresolved safeguarding alert."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.monitoring.domain import (
    Alert,
    DomainError,
    OfstedInspection,
    SuspensionRecommendation,
    SuspensionStatus,
    recommend_suspension,
)

from .factories import NOW, alert, inspection

INADEQUATE = inspection(judgement="inadequate", evidence_id="ofsted-9")


def recommend(
    inspections: list[OfstedInspection],
    alerts: list[Alert],
    existing: list[SuspensionRecommendation] | None = None,
) -> SuspensionRecommendation | None:
    return recommend_suspension(
        "P1",
        inspections=inspections,
        open_alerts=alerts,
        existing=existing or [],
        now=NOW,
        recommendation_id="R1",
    )


def test_recommends_when_both_conditions_hold() -> None:
    recommendation = recommend([INADEQUATE], [alert()])
    assert recommendation is not None
    assert recommendation.provider_id == "P1"
    assert recommendation.status is SuspensionStatus.OPEN
    assert recommendation.alert_ids == ("A1",)
    assert recommendation.evidence_refs == ("ofsted-9", "inc-1")
    assert recommendation.reasons[0].startswith("Latest Ofsted judgement is inadequate")
    assert "A1" in recommendation.reasons[1]


@pytest.mark.parametrize(
    ("framework", "judgement"),
    [("report_card", "urgent_improvement"), ("independent_school_standards", "not_met")],
)
def test_failing_grades_of_every_framework_count(framework: str, judgement: str) -> None:
    failing = inspection(framework=framework, judgement=judgement)
    assert recommend([failing], [alert()]) is not None


def test_not_without_a_failing_inspection() -> None:
    assert recommend([], [alert()]) is None
    assert recommend([inspection(judgement="requires_improvement")], [alert()]) is None


def test_only_the_latest_inspection_counts() -> None:
    improved = inspection(
        judgement="good", inspected_on=INADEQUATE.inspected_on + timedelta(days=90)
    )
    assert recommend([INADEQUATE, improved], [alert()]) is None
    future = inspection(judgement="inadequate", inspected_on=date(2026, 1, 1))
    assert recommend([inspection(judgement="good"), future], [alert()]) is not None


def test_not_without_an_unresolved_safeguarding_alert() -> None:
    assert recommend([INADEQUATE], []) is None
    resolved = alert().acknowledge("o", NOW).resolve("o", "Closed by LADO", NOW)
    assert recommend([INADEQUATE], [resolved]) is None
    other_rule = alert(rule_id="kpi-attendance-below-80")
    assert recommend([INADEQUATE], [other_rule]) is None
    other_provider = alert(provider_id="P2")
    assert recommend([INADEQUATE], [other_provider]) is None
    acknowledged = alert().acknowledge("o", NOW)
    assert recommend([INADEQUATE], [acknowledged]) is not None


def test_other_providers_inspections_are_ignored() -> None:
    elsewhere = inspection(provider_id="P2", judgement="inadequate")
    assert recommend([elsewhere], [alert()]) is None


def test_once_per_provider_while_open() -> None:
    first = recommend([INADEQUATE], [alert()])
    assert first is not None
    assert recommend([INADEQUATE], [alert()], existing=[first]) is None
    closed = first.close("not suspended: action plan accepted", NOW)
    assert closed.status is SuspensionStatus.CLOSED
    assert recommend([INADEQUATE], [alert()], existing=[closed]) is not None


def test_closing_twice_or_without_a_decision_is_refused() -> None:
    first = recommend([INADEQUATE], [alert()])
    assert first is not None
    with pytest.raises(DomainError, match="decision"):
        first.close(" ", NOW)
    with pytest.raises(DomainError, match="already closed"):
        first.close("suspended", NOW).close("suspended", NOW)
