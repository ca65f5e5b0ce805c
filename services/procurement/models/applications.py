"""Providers (as procurement knows them) and requests to participate: tables and mapping."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlmodel import Field

from services.procurement import domain as d
from services.procurement.models._base import ProcurementModel, _aware, _json, _str_or_none
from shared.contracts.common import Attendance, NeedType

# ---------------------------------------------------------------------- providers


class ProviderRow(ProcurementModel, table=True):
    """What procurement knows of a provider, learned from providers.v1 (never its DB)."""

    __tablename__ = "provider_snapshot"

    provider_id: str = Field(primary_key=True, max_length=36)
    urn: int | None = None
    name: str = Field(default="", max_length=300)
    status: str = Field(max_length=20, index=True)
    need_types: list[str] = _json()
    attendance: list[str] = _json()
    age_low: int | None = None
    age_high: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    easting: float | None = None
    northing: float | None = None
    postcode_district: str | None = Field(default=None, max_length=5)
    documents: list[dict[str, Any]] = _json()
    documents_valid: bool = False
    updated_at: datetime = _aware()


def provider_to_domain(row: ProviderRow) -> d.ProviderSnapshot:
    location = None
    if row.easting is not None and row.northing is not None:
        location = d.GridPoint(row.easting, row.northing)
    return d.ProviderSnapshot(
        provider_id=row.provider_id,
        active=row.status == "active",
        need_types=frozenset(NeedType(n) for n in row.need_types),
        attendance=frozenset(Attendance(a) for a in row.attendance),
        age_low=row.age_low,
        age_high=row.age_high,
        location=location,
    )


def documents_to_domain(row: ProviderRow | None) -> tuple[d.ComplianceDocument, ...]:
    if row is None:
        return ()
    return tuple(
        d.ComplianceDocument(d.DocumentKind(doc["kind"]), date.fromisoformat(doc["expires_on"]))
        for doc in row.documents
    )


# ------------------------------------------------------------------- applications


class ApplicationRow(ProcurementModel, table=True):
    """A request to participate and its evaluation clock."""

    __tablename__ = "application"

    id: str = Field(primary_key=True, max_length=36)
    scheme_id: str = Field(max_length=36, index=True, foreign_key="scheme.id")
    provider_id: str = Field(max_length=36, index=True)
    requested_categories: list[str] = _json()
    answers: dict[str, str] = _json()
    submitted_at: datetime = _aware()
    evaluation_working_days: int
    due_on: date
    due_at: datetime = _aware(index=True)
    reminder_at: datetime = _aware()
    extension_reason: str | None = Field(default=None, max_length=1000)
    extended_by: str | None = Field(default=None, max_length=200)
    extended_at: datetime | None = _aware(nullable=True)
    status: str = Field(default="submitted", max_length=20, index=True)  # or decided
    reminded_at: datetime | None = _aware(nullable=True)
    overdue_at: datetime | None = _aware(nullable=True)


class ApplicationDraftRow(ProcurementModel, table=True):
    """A provider's unsaved application to a scheme (one per provider and scheme). Not
    a request to participate: no clock (domain.DRAFT_SOURCE)."""

    __tablename__ = "application_draft"

    scheme_id: str = Field(primary_key=True, max_length=36, foreign_key="scheme.id")
    provider_id: str = Field(primary_key=True, max_length=36, index=True)
    requested_categories: list[str] = _json()
    answers: dict[str, str] = _json()
    saved_at: datetime = _aware()


class ApplicationClarificationRow(ProcurementModel, table=True):
    """The council's request that an applicant clarify or supplement (PCR 2015 reg 56(4))
    and the applicant's reply."""

    __tablename__ = "application_clarification"

    id: str = Field(primary_key=True, max_length=36)
    application_id: str = Field(max_length=36, index=True, foreign_key="application.id")
    provider_id: str = Field(max_length=36)
    question: str = Field(max_length=2000)
    reply_by_on: date
    asked_by: str = Field(max_length=200)
    asked_at: datetime = _aware()
    answer: str | None = Field(default=None, max_length=5000)
    answered_at: datetime | None = _aware(nullable=True)


def application_clarification_to_domain(
    row: ApplicationClarificationRow,
) -> d.ApplicationClarification:
    return d.ApplicationClarification(
        request_id=row.id,
        application_id=row.application_id,
        provider_id=row.provider_id,
        question=row.question,
        reply_by_on=row.reply_by_on,
        asked_by=row.asked_by,
        asked_at=row.asked_at,
        answer=row.answer,
        answered_at=row.answered_at,
    )


class DecisionRow(ProcurementModel, table=True):
    """The decision on a request to participate: every criterion, who decided, when."""

    __tablename__ = "application_decision"

    application_id: str = Field(primary_key=True, max_length=36, foreign_key="application.id")
    outcome: str = Field(max_length=30)
    admitted_categories: list[str] = _json()
    refused_categories: list[dict[str, str]] = _json()
    criteria: list[dict[str, Any]] = _json()
    quality_score: str | None = Field(default=None, max_length=20)
    lot_code: str | None = Field(default=None, max_length=50)
    decided_by: str = Field(max_length=200)
    decided_at: datetime = _aware()
    decided_late: bool = False


def application_to_domain(row: ApplicationRow) -> d.Application:
    """The application as the domain sees it (its decision, if any, is on DecisionRow)."""
    return d.Application(
        application_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        requested_categories=tuple(row.requested_categories),
        answers=dict(row.answers),
        submitted_at=row.submitted_at,
        evaluation_working_days=row.evaluation_working_days,
        extension_reason=row.extension_reason,
        extended_by=row.extended_by,
        extended_at=row.extended_at,
    )


def application_row(a: d.Application) -> ApplicationRow:
    return ApplicationRow(
        id=a.application_id,
        scheme_id=a.scheme_id,
        provider_id=a.provider_id,
        requested_categories=list(a.requested_categories),
        answers=dict(a.answers),
        submitted_at=a.submitted_at,
        evaluation_working_days=a.evaluation_working_days,
        due_on=a.due_on,
        due_at=a.due_at,
        reminder_at=a.reminder_at,
    )


def decision_row(a: d.Application) -> DecisionRow:
    decision = a.decision
    assert decision is not None
    return DecisionRow(
        application_id=a.application_id,
        outcome=decision.outcome.value,
        admitted_categories=list(decision.admitted_categories),
        refused_categories=[asdict(r) for r in decision.refused_categories],
        criteria=[
            {
                "criterion": c.criterion,
                "passed": c.passed,
                "reason": c.reason,
                "score": None if c.score is None else str(c.score),
            }
            for c in decision.criteria
        ],
        quality_score=_str_or_none(decision.quality_score),
        lot_code=decision.lot_code,
        decided_by=decision.decided_by,
        decided_at=decision.decided_at,
        decided_late=decision.decided_late,
    )
