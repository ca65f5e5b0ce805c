"""Rules are data: validated when saved, versioned when changed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.monitoring.domain import (
    DEFAULT_RULES,
    AlertRule,
    DomainError,
    Severity,
    current_rules,
    evaluate_rules,
    revise_rule,
)

from .factories import kpi_return

CHANGED_AT = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)


def rule(**overrides: object) -> AlertRule:
    fields: dict[str, object] = {
        "rule_id": "attendance-low",
        "title": "Attendance low",
        "watches": "kpi_return",
        "condition": "attendance_pct < 85",
        "severity": "warning",
        "target": "placement",
        "cause_template": "attendance:{term}",
    }
    return AlertRule(**(fields | overrides))


def by_id(rule_id: str) -> AlertRule:
    return next(r for r in DEFAULT_RULES if r.rule_id == rule_id)


@pytest.mark.parametrize(
    ("overrides", "field", "rule_text"),
    [
        ({"condition": "attendance_pct.real < 1"}, "condition", "attribute access"),
        ({"condition": "judgement == 'x'"}, "condition", "unknown field 'judgement'"),
        ({"condition": ""}, "condition", "at least 1 character"),
        ({"watches": "ofsted_inspection", "target": "placement"}, "target", "no placement"),
        ({"cause_template": "x:{term.__class__}"}, "cause_template", "plain field names"),
        ({"cause_template": "x:{0}"}, "cause_template", "plain field names"),
        ({"cause_template": "x:{term!r}"}, "cause_template", "plain field names"),
        ({"cause_template": "x:{nope}"}, "cause_template", "unknown field 'nope'"),
        ({"cause_template": "x:{"}, "cause_template", "invalid template"),
        ({"rule_id": "Has Spaces"}, "rule_id", "pattern"),
        ({"severity": "urgent"}, "severity", "'info', 'warning' or 'critical'"),
        ({"changed_at": datetime(2026, 1, 1)}, "changed_at", "timezone-aware"),
    ],
)
def test_a_bad_rule_is_refused_when_saved(overrides: dict, field: str, rule_text: str) -> None:
    with pytest.raises(DomainError) as caught:
        rule(**overrides)
    assert caught.value.field == field
    assert rule_text in caught.value.rule


def test_a_threshold_change_is_a_new_version_and_history_is_kept() -> None:
    first = rule()
    second = revise_rule(
        first,
        condition="attendance_pct < 88",
        changed_by="officer-7",
        changed_at=CHANGED_AT,
        reason="Panel agreed a higher floor",
    )
    assert (first.version, second.version) == (1, 2)
    assert first.condition == "attendance_pct < 85"  # the old version is untouched
    assert (second.changed_by, second.change_reason) == ("officer-7", "Panel agreed a higher floor")
    assert (second.rule_id, second.watches, second.target) == (
        first.rule_id,
        first.watches,
        first.target,
    )
    assert current_rules([second, first]) == {"attendance-low": second}


def test_matches_record_the_version_that_raised_them() -> None:
    second = revise_rule(
        rule(), condition="attendance_pct < 99", changed_by="o", changed_at=CHANGED_AT, reason="r"
    )
    (match,) = evaluate_rules([second], kpi_return(attendance_pct=95))
    assert match.rule_version == 2


def test_a_revision_must_change_something_and_say_why() -> None:
    with pytest.raises(DomainError, match="must change something"):
        revise_rule(
            rule(), severity=Severity.WARNING, changed_by="o", changed_at=CHANGED_AT, reason="r"
        )
    with pytest.raises(DomainError, match="change_reason"):
        revise_rule(rule(), enabled=False, changed_by="o", changed_at=CHANGED_AT, reason=" ")


def test_a_revision_is_validated_like_a_new_rule() -> None:
    with pytest.raises(DomainError) as caught:
        revise_rule(
            rule(), condition="open('x')", changed_by="o", changed_at=CHANGED_AT, reason="r"
        )
    assert caught.value.field == "condition"


def test_a_disabled_rule_does_not_fire() -> None:
    disabled = revise_rule(
        by_id("kpi-attendance-below-80"),
        enabled=False,
        changed_by="o",
        changed_at=CHANGED_AT,
        reason="Paused during migration",
    )
    assert evaluate_rules([disabled], kpi_return(attendance_pct=10)) == []


def test_rules_only_see_the_evidence_they_watch() -> None:
    ofsted_rule = by_id("ofsted-inadequate")
    assert evaluate_rules([ofsted_rule], kpi_return(attendance_pct=10)) == []
    assert not ofsted_rule.matches(kpi_return())


def test_severity_can_be_raised_by_a_revision() -> None:
    revised = revise_rule(
        by_id("uplift-above-cap"),
        severity=Severity.WARNING,
        changed_by="o",
        changed_at=CHANGED_AT,
        reason="Budget pressure",
    )
    assert revised.severity is Severity.WARNING
    assert revised.version == 2
