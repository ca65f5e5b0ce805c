"""Topic quality.v1: what the monitoring service tells the other services.

Kafka key (envelope `subject`) per event: alert events use `alert_id`, so one alert's
raised -> acknowledged -> resolved/escalated stay in order; the suspension
recommendation uses `provider_id`; visits and incidents use `provider_id`; KPI returns
use `placement_id`.

Models ignore fields they do not know, so optional fields can be added within v1
without breaking older consumers. Incident summaries are deliberately NOT published:
safeguarding detail stays in the monitoring database; others only need to know that
an incident happened, how severe it was and where.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, Field

from shared.contracts.base import Event

TOPIC = "quality.v1"

TERM_PATTERN = r"^\d{4}-(spring|summer|autumn)$"  # e.g. "2025-autumn" (calendar year)


class Severity(StrEnum):
    """How urgently a monitoring officer must act on an alert."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertTarget(StrEnum):
    """What an alert is about: a provider (school), one child's placement, or a scheme's
    statutory duty (a notice the council owes)."""

    PROVIDER = "provider"
    PLACEMENT = "placement"
    SCHEME = "scheme"


class IncidentCategory(StrEnum):
    """A safeguarding incident or a complaint about a provider."""

    SAFEGUARDING = "safeguarding"
    COMPLAINT = "complaint"


class IncidentSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class OutcomeProgress(StrEnum):
    """Progress against the EHC plan outcomes reported in a termly KPI return."""

    MET = "met"
    PARTLY = "partly"
    NOT_MET = "not_met"


class QualityEvent(Event):
    """Base of every quality.v1 payload (TYPE is the CloudEvents `type`)."""

    TOPIC: ClassVar[str] = TOPIC


class AlertRaised(QualityEvent):
    """A rule matched evidence and a new alert was opened for monitoring officers."""

    TYPE: ClassVar[str] = "quality.alert.raised"
    SUBJECT_FIELD: ClassVar[str] = "alert_id"

    alert_id: str = Field(min_length=1)
    dedupe_key: str = Field(min_length=1)  # rule id + target + cause
    rule_id: str = Field(min_length=1)
    rule_version: int = Field(ge=1)
    title: str
    severity: Severity
    target: AlertTarget
    target_id: str = Field(min_length=1)
    provider_id: str | None = None
    placement_id: str | None = None
    cause: str
    evidence_kind: str  # open vocabulary: new evidence kinds must not break v1
    evidence_refs: list[str] = Field(default_factory=list)
    raised_at: AwareDatetime


class AlertAcknowledged(QualityEvent):
    """A monitoring officer took ownership of an alert."""

    TYPE: ClassVar[str] = "quality.alert.acknowledged"
    SUBJECT_FIELD: ClassVar[str] = "alert_id"

    alert_id: str = Field(min_length=1)
    acknowledged_by: str = Field(min_length=1)
    acknowledged_at: AwareDatetime
    provider_id: str | None = None
    placement_id: str | None = None


class AlertResolved(QualityEvent):
    """A monitoring officer closed an alert with an outcome."""

    TYPE: ClassVar[str] = "quality.alert.resolved"
    SUBJECT_FIELD: ClassVar[str] = "alert_id"

    alert_id: str = Field(min_length=1)
    resolved_by: str = Field(min_length=1)
    resolved_at: AwareDatetime
    outcome: str = Field(min_length=1)
    provider_id: str | None = None
    placement_id: str | None = None


class AlertEscalated(QualityEvent):
    """A critical alert was not acknowledged by its deadline."""

    TYPE: ClassVar[str] = "quality.alert.escalated"
    SUBJECT_FIELD: ClassVar[str] = "alert_id"

    alert_id: str = Field(min_length=1)
    severity: Severity
    raised_at: AwareDatetime
    deadline: AwareDatetime
    escalated_at: AwareDatetime
    escalated_to: str | None = None
    provider_id: str | None = None
    placement_id: str | None = None


class SuspensionRecommended(QualityEvent):
    """Monitoring recommends suspending a provider; provider_registry decides."""

    TYPE: ClassVar[str] = "quality.provider.suspension_recommended"
    SUBJECT_FIELD: ClassVar[str] = "provider_id"

    recommendation_id: str = Field(min_length=1)
    provider_id: str = Field(min_length=1)
    reasons: list[str] = Field(min_length=1)
    evidence_refs: list[str] = Field(default_factory=list)
    alert_ids: list[str] = Field(default_factory=list)
    recommended_at: AwareDatetime
    # Set when a monitoring officer raised it by hand (None: monitoring's rules did);
    # `grounds` are codes of monitoring's SUSPENSION_GROUNDS, `reasons` say why.
    raised_by: str | None = None
    grounds: list[str] = Field(default_factory=list)


class VisitRecorded(QualityEvent):
    """A monitoring officer recorded a visit (rating 1 outstanding .. 4 inadequate)."""

    TYPE: ClassVar[str] = "quality.visit.recorded"
    SUBJECT_FIELD: ClassVar[str] = "provider_id"

    visit_id: str = Field(min_length=1)
    provider_id: str = Field(min_length=1)
    officer_id: str = Field(min_length=1)
    visited_on: date
    rating: int = Field(ge=1, le=4)
    findings: str | None = None


class KpiReturnRecorded(QualityEvent):
    """A provider's termly KPI return for one placement."""

    TYPE: ClassVar[str] = "quality.kpi_return.recorded"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    return_id: str = Field(min_length=1)
    placement_id: str = Field(min_length=1)
    provider_id: str = Field(min_length=1)
    term: str = Field(pattern=TERM_PATTERN)
    attendance_pct: float = Field(ge=0, le=100, allow_inf_nan=False)
    exclusions: int = Field(ge=0)
    incidents: int = Field(ge=0)
    outcomes_progress: OutcomeProgress
    submitted_on: date


class IncidentRecorded(QualityEvent):
    """A safeguarding incident or complaint was recorded (summary withheld, see above)."""

    TYPE: ClassVar[str] = "quality.incident.recorded"
    SUBJECT_FIELD: ClassVar[str] = "provider_id"

    incident_id: str = Field(min_length=1)
    provider_id: str = Field(min_length=1)
    placement_id: str | None = None
    category: IncidentCategory
    severity: IncidentSeverity
    occurred_on: date


EVENT_TYPES: dict[str, type[BaseModel]] = {
    model.TYPE: model
    for model in (
        AlertRaised,
        AlertAcknowledged,
        AlertResolved,
        AlertEscalated,
        SuspensionRecommended,
        VisitRecorded,
        KpiReturnRecorded,
        IncidentRecorded,
    )
}
