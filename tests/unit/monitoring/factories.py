"""Small builders for monitoring records, with sensible defaults for unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.monitoring.domain import (
    Alert,
    AlertTarget,
    DocumentExpiry,
    EvidenceKind,
    IncidentReport,
    KpiReturn,
    MonitoringVisit,
    OfstedInspection,
    PlacementRecord,
    ReviewOverdue,
    Severity,
    UpliftRequested,
)

NOW = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)


def kpi_return(**overrides: Any) -> KpiReturn:
    fields: dict[str, Any] = {
        "evidence_id": "kpi-1",
        "provider_id": "P1",
        "placement_id": "PL1",
        "term": "2025-autumn",
        "attendance_pct": 95.0,
        "exclusions": 0,
        "incidents": 0,
        "outcomes_progress": "met",
        "submitted_on": date(2026, 1, 5),
    }
    return KpiReturn(**(fields | overrides))


def inspection(**overrides: Any) -> OfstedInspection:
    fields: dict[str, Any] = {
        "evidence_id": "ofsted-1",
        "provider_id": "P1",
        "inspected_on": date(2025, 10, 1),
        "framework": "four_point",
        "judgement": "good",
    }
    return OfstedInspection(**(fields | overrides))


def incident(**overrides: Any) -> IncidentReport:
    fields: dict[str, Any] = {
        "evidence_id": "inc-1",
        "provider_id": "P1",
        "category": "safeguarding",
        "severity": "high",
        "occurred_on": date(2026, 1, 10),
        "summary": "Restraint used without a recorded plan; child ref KCC-EHC-000123.",
    }
    return IncidentReport(**(fields | overrides))


def visit(**overrides: Any) -> MonitoringVisit:
    fields: dict[str, Any] = {
        "evidence_id": "visit-1",
        "provider_id": "P1",
        "officer_id": "officer-1",
        "visited_on": date(2025, 11, 20),
        "rating": 2,
        "findings": "Good transition planning.",
    }
    return MonitoringVisit(**(fields | overrides))


def review_overdue(**overrides: Any) -> ReviewOverdue:
    fields: dict[str, Any] = {
        "evidence_id": "rev-1",
        "provider_id": "P1",
        "placement_id": "PL1",
        "due_on": date(2026, 1, 10),
        "as_of": date(2026, 1, 11),
    }
    return ReviewOverdue(**(fields | overrides))


def document_expiry(**overrides: Any) -> DocumentExpiry:
    fields: dict[str, Any] = {
        "evidence_id": "doc-1",
        "provider_id": "P1",
        "document_type": "employers_liability_insurance",
        "expires_on": date(2026, 1, 10),
        "as_of": date(2026, 1, 11),
    }
    return DocumentExpiry(**(fields | overrides))


def uplift(**overrides: Any) -> UpliftRequested:
    fields: dict[str, Any] = {
        "evidence_id": "upl-1",
        "provider_id": "P1",
        "placement_id": "PL1",
        "requested_on": date(2026, 1, 2),
        "requested_pct": 5.0,
        "cap_pct": 3.0,
    }
    return UpliftRequested(**(fields | overrides))


def placement(**overrides: Any) -> PlacementRecord:
    fields: dict[str, Any] = {
        "placement_id": "PL1",
        "provider_id": "P1",
        "primary_need": "ASD",
        "starts_on": date(2025, 9, 1),
        "weekly_fee": Decimal("1500.00"),
    }
    return PlacementRecord(**(fields | overrides))


def alert(**overrides: Any) -> Alert:
    fields: dict[str, Any] = {
        "alert_id": "A1",
        "dedupe_key": "safeguarding-incident|provider:P1|incident:inc-1",
        "rule_id": "safeguarding-incident",
        "rule_version": 1,
        "title": "Safeguarding incident reported",
        "severity": Severity.CRITICAL,
        "target": AlertTarget.PROVIDER,
        "target_id": "P1",
        "provider_id": "P1",
        "cause": "incident:inc-1",
        "evidence_kind": EvidenceKind.INCIDENT,
        "evidence_refs": ("inc-1",),
        "raised_at": NOW,
    }
    return Alert(**(fields | overrides))
