"""Domain results -> the quality.v1 payloads monitoring publishes, in one place."""

from __future__ import annotations

from datetime import datetime

from services.monitoring import domain
from shared.contracts import quality_v1


def alert_raised(alert: domain.Alert) -> quality_v1.AlertRaised:
    return quality_v1.AlertRaised(
        alert_id=alert.alert_id,
        dedupe_key=alert.dedupe_key,
        rule_id=alert.rule_id,
        rule_version=alert.rule_version,
        title=alert.title,
        severity=alert.severity,
        target=alert.target,
        target_id=alert.target_id,
        provider_id=alert.provider_id,
        placement_id=alert.placement_id,
        cause=alert.cause,
        evidence_kind=alert.evidence_kind.value,
        evidence_refs=list(alert.evidence_refs),
        raised_at=alert.raised_at,
    )


def alert_transitioned(alert: domain.Alert, action: str) -> quality_v1.QualityEvent | None:
    """The event of an officer's action, or None (assignment is internal to the inbox;
    quality.v1 has no event for it)."""
    ids = {"provider_id": alert.provider_id, "placement_id": alert.placement_id}
    if action == "acknowledged":
        assert alert.acknowledged_by and alert.acknowledged_at
        return quality_v1.AlertAcknowledged(
            alert_id=alert.alert_id,
            acknowledged_by=alert.acknowledged_by,
            acknowledged_at=alert.acknowledged_at,
            **ids,
        )
    if action == "resolved":
        assert alert.resolved_by and alert.resolved_at and alert.outcome
        return quality_v1.AlertResolved(
            alert_id=alert.alert_id,
            resolved_by=alert.resolved_by,
            resolved_at=alert.resolved_at,
            outcome=alert.outcome,
            **ids,
        )
    return None


def alert_escalated(
    alert: domain.Alert, deadline: datetime, now: datetime, escalated_to: str
) -> quality_v1.AlertEscalated:
    return quality_v1.AlertEscalated(
        alert_id=alert.alert_id,
        severity=alert.severity,
        raised_at=alert.raised_at,
        deadline=deadline,
        escalated_at=now,
        escalated_to=escalated_to,
        provider_id=alert.provider_id,
        placement_id=alert.placement_id,
    )


def suspension_recommended(
    recommendation: domain.SuspensionRecommendation,
) -> quality_v1.SuspensionRecommended:
    return quality_v1.SuspensionRecommended(
        recommendation_id=recommendation.recommendation_id,
        provider_id=recommendation.provider_id,
        reasons=list(recommendation.reasons),
        evidence_refs=list(recommendation.evidence_refs),
        alert_ids=list(recommendation.alert_ids),
        recommended_at=recommendation.recommended_at,
        raised_by=recommendation.raised_by,
        grounds=list(recommendation.grounds),
    )


def visit_recorded(visit: domain.MonitoringVisit) -> quality_v1.VisitRecorded:
    return quality_v1.VisitRecorded(
        visit_id=visit.evidence_id,
        provider_id=visit.provider_id,
        officer_id=visit.officer_id,
        visited_on=visit.visited_on,
        rating=visit.rating,
        findings=visit.findings,
    )


def kpi_return_recorded(kpi: domain.KpiReturn) -> quality_v1.KpiReturnRecorded:
    return quality_v1.KpiReturnRecorded(
        return_id=kpi.evidence_id,
        placement_id=kpi.placement_id,
        provider_id=kpi.provider_id,
        term=kpi.term,
        attendance_pct=kpi.attendance_pct,
        exclusions=kpi.exclusions,
        incidents=kpi.incidents,
        outcomes_progress=quality_v1.OutcomeProgress(kpi.outcomes_progress.value),
        submitted_on=kpi.submitted_on,
    )


def incident_recorded(incident: domain.IncidentReport) -> quality_v1.IncidentRecorded:
    return quality_v1.IncidentRecorded(
        incident_id=incident.evidence_id,
        provider_id=incident.provider_id,
        placement_id=incident.placement_id,
        category=quality_v1.IncidentCategory(incident.category.value),
        severity=quality_v1.IncidentSeverity(incident.severity.value),
        occurred_on=incident.occurred_on,
    )
