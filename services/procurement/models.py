"""Tables of the procurement service (its own database only), and the mapping between
rows and the domain's immutable records.

What is queried is a column (status, ids, deadlines); what is only shown or fed back to
the domain (categories, filters, offers, rankings) is JSON. Decimals are kept as text
in JSON so money and scores round-trip to the penny on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.procurement import domain as d
from shared.contracts import procurement_v1
from shared.contracts.common import Attendance, NeedType
from shared.infra_models import AwareDateTime, utcnow


class ProcurementModel(SQLModel, registry=registry()):
    """Base of procurement tables: a registry of their own, apart from other services."""


def _aware(nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(AwareDateTime(), nullable=nullable, index=index),
    )


def _json(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


# ------------------------------------------------------------------------ schemes


class SchemeRow(ProcurementModel, table=True):
    """A DPS scheme with its parts (categories, lots), selection rules and regime."""

    __tablename__ = "scheme"

    id: str = Field(primary_key=True, max_length=36)
    reference: str = Field(max_length=100, unique=True)
    title: str = Field(max_length=300)
    regime: str = Field(max_length=40)
    status: str = Field(max_length=20, index=True)
    status_reason: str | None = Field(default=None, max_length=1000)
    term_start: date
    term_end: date
    max_extension_end: date | None = None
    extension_exercised: bool = False
    pass_mark: str = Field(default="0", max_length=20)
    min_tender_days: int = 10
    urgent_min_tender_days: int = 3
    late_joiner_min_days: int | None = None
    voluntary_standstill: bool = False
    group_notices_quarterly: bool = True
    standstill_blocks_above_threshold: bool = True
    categories: list[dict[str, Any]] = _json()
    lots: list[dict[str, Any]] = _json()
    questions: list[dict[str, Any]] = _json()
    required_documents: list[str] = _json()
    created_by: str = Field(max_length=200)
    created_at: datetime = _aware()
    # Issue 12: call-offs follow the regime (migration 0007).
    narrowing_published: bool = False
    established_on: date | None = None
    imported: bool = False
    award_criteria: dict[str, Any] | None = _json(nullable=True)  # None: the default
    extension_ends: list[str] | None = _json(nullable=True)
    extensions: list[dict[str, Any]] | None = _json(nullable=True)
    period_notices: list[dict[str, Any]] | None = _json(nullable=True)


def award_criteria_json(a: d.AwardCriteria) -> dict[str, Any]:
    return {
        "quality_weight": a.quality_weight,
        "price_weight": a.price_weight,
        "quality_questions": [asdict(q) for q in a.quality_questions],
    }


def award_criteria_to_domain(raw: dict[str, Any] | None) -> d.AwardCriteria:
    if raw is None:
        return d.DEFAULT_AWARD_CRITERIA
    return d.AwardCriteria(
        raw["quality_weight"],
        raw["price_weight"],
        tuple(d.QualityQuestion(**q) for q in raw["quality_questions"]),
    )


def _extension_json(e: d.TermExtension) -> dict[str, Any]:
    return {
        "previous_term_end": e.previous_term_end.isoformat(),
        "term_end": e.term_end.isoformat(),
        "decided_by": e.decided_by,
        "decided_at": e.decided_at.isoformat(),
        "reason": e.reason,
    }


def _extension(raw: dict[str, Any]) -> d.TermExtension:
    return d.TermExtension(
        previous_term_end=date.fromisoformat(raw["previous_term_end"]),
        term_end=date.fromisoformat(raw["term_end"]),
        decided_by=raw["decided_by"],
        decided_at=datetime.fromisoformat(raw["decided_at"]),
        reason=raw["reason"],
    )


def period_notice_json(n: d.PeriodChangeNotice) -> dict[str, Any]:
    return {
        "change": n.change,
        "previous_end": n.previous_end.isoformat(),
        "new_end": n.new_end.isoformat(),
        "form": n.form,
        "decided_by": n.decided_by,
        "decided_at": n.decided_at.isoformat(),
        "reason": n.reason,
        "status": n.status,
    }


def _period_notice(raw: dict[str, Any]) -> d.PeriodChangeNotice:
    return d.PeriodChangeNotice(
        change=raw["change"],
        previous_end=date.fromisoformat(raw["previous_end"]),
        new_end=date.fromisoformat(raw["new_end"]),
        form=raw["form"],
        decided_by=raw["decided_by"],
        decided_at=datetime.fromisoformat(raw["decided_at"]),
        reason=raw["reason"],
        status=raw.get("status", "pending"),
    )


def _lot_json(lot: d.Lot) -> dict[str, Any]:
    return {
        "code": lot.code,
        "name": lot.name,
        "min_quality_score": str(lot.min_quality_score),
        "block_contracts_allowed": lot.block_contracts_allowed,
        "min_question_score": _str_or_none(lot.min_question_score),
        "min_score_questions": list(lot.min_score_questions),
    }


def scheme_to_domain(row: SchemeRow) -> d.Scheme:
    return d.Scheme(
        scheme_id=row.id,
        reference=row.reference,
        title=row.title,
        regime=d.RegimeCode(row.regime),
        term_start=row.term_start,
        term_end=row.term_end,
        categories=tuple(
            d.Category(
                code=c["code"],
                name=c["name"],
                need_types=frozenset(NeedType(n) for n in c["need_types"]),
                attendance=frozenset(Attendance(a) for a in c["attendance"]),
            )
            for c in row.categories
        ),
        selection_questions=tuple(
            d.SelectionQuestion(
                question_id=q["question_id"],
                text=q["text"],
                kind=d.QuestionKind(q["kind"]),
                max_score=q.get("max_score", 0),
                weight=q.get("weight", 0),
                min_score=_dec_or_none(q.get("min_score")),
            )
            for q in row.questions
        ),
        lots=tuple(
            d.Lot(
                code=lot["code"],
                name=lot["name"],
                min_quality_score=Decimal(lot["min_quality_score"]),
                block_contracts_allowed=lot.get("block_contracts_allowed", False),
                min_question_score=_dec_or_none(lot.get("min_question_score")),
                min_score_questions=tuple(lot.get("min_score_questions", ())),
            )
            for lot in row.lots
        ),
        pass_mark=Decimal(row.pass_mark),
        required_documents=frozenset(d.DocumentKind(k) for k in row.required_documents),
        max_extension_end=row.max_extension_end,
        extension_exercised=row.extension_exercised,
        min_tender_days=row.min_tender_days,
        urgent_min_tender_days=row.urgent_min_tender_days,
        late_joiner_min_days=row.late_joiner_min_days,
        voluntary_standstill=row.voluntary_standstill,
        standstill_blocks_above_threshold=row.standstill_blocks_above_threshold,
        group_notices_quarterly=row.group_notices_quarterly,
        status=d.SchemeStatus(row.status),
        status_reason=row.status_reason,
        narrowing_published=bool(row.narrowing_published),
        established_on=row.established_on,
        imported=bool(row.imported),
        award_criteria=award_criteria_to_domain(row.award_criteria),
        extension_ends=tuple(date.fromisoformat(x) for x in row.extension_ends or ()),
        extensions=tuple(_extension(e) for e in row.extensions or ()),
        period_notices=tuple(_period_notice(n) for n in row.period_notices or ()),
    )


def scheme_row(s: d.Scheme, created_by: str) -> SchemeRow:
    return SchemeRow(
        id=s.scheme_id,
        reference=s.reference,
        title=s.title,
        regime=s.regime.value,
        status=s.status.value,
        status_reason=s.status_reason,
        term_start=s.term_start,
        term_end=s.term_end,
        max_extension_end=s.max_extension_end,
        extension_exercised=s.extension_exercised,
        pass_mark=str(s.pass_mark),
        min_tender_days=s.min_tender_days,
        urgent_min_tender_days=s.urgent_min_tender_days,
        late_joiner_min_days=s.late_joiner_min_days,
        voluntary_standstill=s.voluntary_standstill,
        standstill_blocks_above_threshold=s.standstill_blocks_above_threshold,
        group_notices_quarterly=s.group_notices_quarterly,
        categories=[
            {
                "code": c.code,
                "name": c.name,
                "need_types": sorted(c.need_types),
                "attendance": sorted(c.attendance),
            }
            for c in s.categories
        ],
        lots=[_lot_json(lot) for lot in s.lots],
        questions=[
            {
                "question_id": q.question_id,
                "text": q.text,
                "kind": q.kind.value,
                "max_score": q.max_score,
                "weight": q.weight,
                "min_score": None if q.min_score is None else str(q.min_score),
            }
            for q in s.selection_questions
        ],
        required_documents=sorted(s.required_documents),
        created_by=created_by,
        created_at=utcnow(),
        narrowing_published=s.narrowing_published,
        established_on=s.established_on,
        imported=s.imported,
        award_criteria=award_criteria_json(s.award_criteria),
        extension_ends=[x.isoformat() for x in s.extension_ends],
        extensions=[_extension_json(e) for e in s.extensions],
        period_notices=[period_notice_json(n) for n in s.period_notices],
    )


# What an amendment may change (d.AMENDMENT_RULES), as the row's columns; with the
# lifecycle (apply_scheme) for an extension.
_AMENDED_COLUMNS = (
    "title",
    "term_start",
    "term_end",
    "max_extension_end",
    "categories",
    "lots",
    "questions",
    "pass_mark",
    "required_documents",
    "min_tender_days",
    "award_criteria",
    "extension_ends",
)


def apply_amendment(row: SchemeRow, s: d.Scheme) -> None:
    """Copy an amended scheme onto its row (the same columns scheme_row writes)."""
    fresh = scheme_row(s, row.created_by)
    for name in _AMENDED_COLUMNS:
        setattr(row, name, getattr(fresh, name))
    apply_scheme(row, s)


def apply_scheme(row: SchemeRow, s: d.Scheme) -> None:
    """Copy the mutable parts of a scheme (its lifecycle) onto its row."""
    row.status = s.status.value
    row.status_reason = s.status_reason
    row.extension_exercised = s.extension_exercised
    row.extensions = [_extension_json(e) for e in s.extensions]
    row.period_notices = [period_notice_json(n) for n in s.period_notices]


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


# -------------------------------------------------------------------- memberships


class MembershipRow(ProcurementModel, table=True):
    """A provider admitted to one category of a scheme (in a lot, when tiered)."""

    __tablename__ = "membership"
    __table_args__ = (Index("ix_membership_scheme_category", "scheme_id", "category_code"),)

    id: int | None = Field(default=None, primary_key=True)
    scheme_id: str = Field(max_length=36, foreign_key="scheme.id")
    provider_id: str = Field(max_length=36, index=True)
    category_code: str = Field(max_length=50)
    lot_code: str | None = Field(default=None, max_length=50)
    quality_score: str | None = Field(default=None, max_length=20)
    admitted_on: date
    application_id: str = Field(max_length=36)
    status: str = Field(max_length=20, index=True)
    status_reason: str | None = Field(default=None, max_length=1000)
    status_changed_by: str | None = Field(default=None, max_length=200)
    status_changed_on: date | None = None


class MembershipHistoryRow(ProcurementModel, table=True):
    """Every change of a membership's status, with who, when and why."""

    __tablename__ = "membership_history"

    id: int | None = Field(default=None, primary_key=True)
    membership_id: int = Field(index=True, foreign_key="membership.id")
    status: str = Field(max_length=20)
    reason: str = Field(max_length=1000)
    changed_by: str = Field(max_length=200)
    changed_at: datetime = _aware()


def membership_to_domain(row: MembershipRow) -> d.Membership:
    return d.Membership(
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        category_code=row.category_code,
        lot_code=row.lot_code,
        quality_score=_dec_or_none(row.quality_score),
        admitted_on=row.admitted_on,
        application_id=row.application_id,
        status=d.MembershipStatus(row.status),
        status_reason=row.status_reason,
        status_changed_by=row.status_changed_by,
        status_changed_on=row.status_changed_on,
    )


def membership_row(m: d.Membership) -> MembershipRow:
    return MembershipRow(
        scheme_id=m.scheme_id,
        provider_id=m.provider_id,
        category_code=m.category_code,
        lot_code=m.lot_code,
        quality_score=_str_or_none(m.quality_score),
        admitted_on=m.admitted_on,
        application_id=m.application_id,
        status=m.status.value,
    )


def apply_membership(row: MembershipRow, m: d.Membership) -> None:
    row.status = m.status.value
    row.status_reason = m.status_reason
    row.status_changed_by = m.status_changed_by
    row.status_changed_on = m.status_changed_on


class SelfDeclarationRow(ProcurementModel, table=True):
    """A request for a renewed self-declaration (reg 34(25)) and its answer."""

    __tablename__ = "self_declaration_request"

    id: str = Field(primary_key=True, max_length=36)
    scheme_id: str = Field(max_length=36, index=True, foreign_key="scheme.id")
    provider_id: str = Field(max_length=36, index=True)
    requested_by: str = Field(max_length=200)
    requested_at: datetime = _aware()
    reason: str = Field(default="", max_length=1000)
    due_on: date
    due_at: datetime = _aware(index=True)
    status: str = Field(default="requested", max_length=20, index=True)  # or answered
    answered_by: str | None = Field(default=None, max_length=200)
    answered_at: datetime | None = _aware(nullable=True)
    declaration: dict[str, str] | None = _json(nullable=True)
    overdue_at: datetime | None = _aware(nullable=True)


def self_declaration_row(r: d.SelfDeclarationRequest) -> SelfDeclarationRow:
    return SelfDeclarationRow(
        id=r.request_id,
        scheme_id=r.scheme_id,
        provider_id=r.provider_id,
        requested_by=r.requested_by,
        requested_at=r.requested_at,
        reason=r.reason,
        due_on=r.due_on,
        due_at=r.due_at,
    )


def self_declaration_to_domain(row: SelfDeclarationRow) -> d.SelfDeclarationRequest:
    return d.SelfDeclarationRequest(
        request_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        reason=row.reason,
        answered_by=row.answered_by,
        answered_at=row.answered_at,
        declaration=dict(row.declaration or {}),
    )


# ------------------------------------------------------------------- competitions


class CompetitionRow(ProcurementModel, table=True):
    """A call-off competition; its evidence (screenings, tier steps) is JSON."""

    __tablename__ = "competition"

    id: str = Field(primary_key=True, max_length=64)
    scheme_id: str = Field(max_length=36, index=True, foreign_key="scheme.id")
    category_code: str = Field(max_length=50)
    kind: str = Field(max_length=20)
    title: str = Field(max_length=300)
    status: str = Field(max_length=30, index=True)
    round: int = 1
    current_lot: str | None = Field(default=None, max_length=50)
    need_ref: str | None = Field(default=None, max_length=100, unique=True)
    spec: dict[str, Any] = _json()
    opened_at: datetime = _aware()
    deadline_at: datetime = _aware(index=True)
    closed_at: datetime | None = _aware(nullable=True)
    urgent_reason: str | None = Field(default=None, max_length=1000)
    screenings: list[dict[str, Any]] = _json()
    tier_steps: list[dict[str, Any]] = _json()
    outcomes: list[dict[str, Any]] = _json()  # "no suitable bid" declarations
    # Bids set aside as non-compliant at the deadline: [{bid_id, provider_id, reason, round}]
    set_aside: list[dict[str, Any]] | None = _json(nullable=True)


class InvitationRow(ProcurementModel, table=True):
    """Evidence that a provider was invited: when, in which round and tier, and why."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("competition_id", "provider_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: str = Field(max_length=64, index=True, foreign_key="competition.id")
    provider_id: str = Field(max_length=36, index=True)
    lot_code: str | None = Field(default=None, max_length=50)
    round: int
    reason: str = Field(max_length=20)
    invited_at: datetime = _aware()


def spec_json(spec: d.CompetitionSpec) -> dict[str, Any]:
    f = spec.filter
    return {
        "quality_weight": spec.quality_weight,
        "price_weight": spec.price_weight,
        "places": spec.places,
        "term_start": _iso_or_none(spec.term_start),
        "term_end": _iso_or_none(spec.term_end),
        "opened_by": spec.opened_by,
        "quality_questions": [asdict(q) for q in spec.quality_questions],
        "filter": {
            "need_type": f.need_type.value,
            "attendance": f.attendance.value,
            "min_age": f.min_age,
            "max_age": f.max_age,
            "max_distance_km": f.max_distance_km,
            "origin": None if f.origin is None else [f.origin.easting, f.origin.northing],
        },
    }


def spec_to_domain(row: CompetitionRow) -> d.CompetitionSpec:
    s = row.spec
    f = s["filter"]
    origin = f.get("origin")
    return d.CompetitionSpec(
        competition_id=row.id,
        scheme_id=row.scheme_id,
        category_code=row.category_code,
        kind=d.CompetitionKind(row.kind),
        title=row.title,
        filter=d.FilterCriteria(
            need_type=NeedType(f["need_type"]),
            attendance=Attendance(f["attendance"]),
            min_age=f.get("min_age"),
            max_age=f.get("max_age"),
            origin=d.GridPoint(*origin) if origin else None,
            max_distance_km=f.get("max_distance_km"),
        ),
        quality_weight=s["quality_weight"],
        price_weight=s["price_weight"],
        quality_questions=tuple(d.QualityQuestion(**q) for q in s["quality_questions"]),
        places=s["places"],
        term_start=_date_or_none(s.get("term_start")),
        term_end=_date_or_none(s.get("term_end")),
        need_ref=row.need_ref,
        opened_by=s.get("opened_by", ""),
    )


def competition_to_domain(row: CompetitionRow, invitations: list[InvitationRow]) -> d.Competition:
    return d.Competition(
        spec=spec_to_domain(row),
        status=d.CompetitionStatus(row.status),
        round=row.round,
        current_lot=row.current_lot,
        opened_at=row.opened_at,
        deadline_at=row.deadline_at,
        urgent_reason=row.urgent_reason,
        invitations=tuple(
            d.Invitation(
                i.provider_id, i.lot_code, i.round, i.invited_at, d.InvitationReason(i.reason)
            )
            for i in invitations
        ),
        screenings=tuple(
            d.Screening(
                s["provider_id"], s["lot_code"], s["eligible"], tuple(s["reasons"]), s["round"]
            )
            for s in row.screenings
        ),
        tier_steps=tuple(d.TierStep(**t) for t in row.tier_steps),
        closed_at=row.closed_at,
    )


def competition_row(c: d.Competition) -> CompetitionRow:
    row = CompetitionRow(
        id=c.competition_id,
        scheme_id=c.scheme_id,
        category_code=c.spec.category_code,
        kind=c.spec.kind.value,
        title=c.spec.title,
        status=c.status.value,
        need_ref=c.spec.need_ref,
        spec=spec_json(c.spec),
        opened_at=c.opened_at,
        deadline_at=c.deadline_at,
        outcomes=[],
    )
    apply_competition(row, c)
    return row


def apply_competition(row: CompetitionRow, c: d.Competition) -> None:
    """Copy the competition's state and evidence onto its row (invitations apart)."""
    row.status = c.status.value
    row.round = c.round
    row.current_lot = c.current_lot
    row.deadline_at = c.deadline_at
    row.closed_at = c.closed_at
    row.urgent_reason = c.urgent_reason
    row.screenings = [asdict(s) for s in c.screenings]
    row.tier_steps = [asdict(t) for t in c.tier_steps]


def invitation_row(competition_id: str, i: d.Invitation) -> InvitationRow:
    return InvitationRow(
        competition_id=competition_id,
        provider_id=i.provider_id,
        lot_code=i.lot_code,
        round=i.round,
        reason=i.reason.value,
        invited_at=i.invited_at,
    )


# --------------------------------------------------------------------------- bids


class BidRow(ProcurementModel, table=True):
    """A bid; a resubmission supersedes the provider's live bid (kept, not deleted)."""

    __tablename__ = "bid"
    __table_args__ = (Index("ix_bid_live", "competition_id", "round", "superseded"),)

    id: str = Field(primary_key=True, max_length=36)
    competition_id: str = Field(max_length=64, foreign_key="competition.id")
    provider_id: str = Field(max_length=36, index=True)
    round: int
    version: int = 1
    replaces_bid_id: str | None = Field(default=None, max_length=36)
    superseded: bool = False
    submitted_at: datetime = _aware()
    annual_cost: str = Field(max_length=30)
    offer: dict[str, Any] = _json()
    # Withdrawn by the provider before the deadline (also superseded: never evaluated).
    withdrawn_at: datetime | None = _aware(nullable=True)


def bid_row(b: d.Bid) -> BidRow:
    o = b.offer
    return BidRow(
        id=b.bid_id,
        competition_id=b.competition_id,
        provider_id=b.provider_id,
        round=b.round,
        version=b.version,
        replaces_bid_id=b.replaces_bid_id,
        submitted_at=b.submitted_at,
        annual_cost=str(o.annual_cost),
        offer={
            "fee_basis": o.fee_basis.value,
            "core_fee": str(o.core_fee),
            "weeks_per_year": o.weeks_per_year,
            "start_date": o.start_date.isoformat(),
            "answers": dict(o.answers),
            "additional_support": [
                {"description": i.description, "amount": str(i.amount), "basis": i.basis.value}
                for i in o.additional_support
            ],
        },
    )


def bid_to_domain(row: BidRow) -> d.Bid:
    o = row.offer
    return d.Bid(
        bid_id=row.id,
        competition_id=row.competition_id,
        round=row.round,
        offer=d.BidOffer(
            provider_id=row.provider_id,
            fee_basis=d.FeeBasis(o["fee_basis"]),
            core_fee=Decimal(o["core_fee"]),
            weeks_per_year=o["weeks_per_year"],
            start_date=date.fromisoformat(o["start_date"]),
            answers=dict(o["answers"]),
            additional_support=tuple(
                d.SupportItem(i["description"], Decimal(i["amount"]), d.ChargeBasis(i["basis"]))
                for i in o["additional_support"]
            ),
        ),
        submitted_at=row.submitted_at,
        version=row.version,
        replaces_bid_id=row.replaces_bid_id,
    )


# -------------------------------------------------------------- evaluator scores


class ClarificationRow(ProcurementModel, table=True):
    """A provider's clarification question on a call-off and the published answer
    (shown to every invited provider; who asked is for the council only)."""

    __tablename__ = "clarification"

    id: str = Field(primary_key=True, max_length=36)
    competition_id: str = Field(max_length=64, index=True, foreign_key="competition.id")
    round: int
    asked_by: str = Field(max_length=36)
    question: str = Field(max_length=2000)
    asked_at: datetime = _aware()
    answer: str | None = Field(default=None, max_length=5000)
    answered_by: str | None = Field(default=None, max_length=200)
    answered_at: datetime | None = _aware(nullable=True)


def clarification_to_domain(row: ClarificationRow) -> d.Clarification:
    return d.Clarification(
        clarification_id=row.id,
        competition_id=row.competition_id,
        round=row.round,
        asked_by=row.asked_by,
        question=row.question,
        asked_at=row.asked_at,
        answer=row.answer,
        answered_by=row.answered_by,
        answered_at=row.answered_at,
    )


def clarification_row(q: d.Clarification) -> ClarificationRow:
    return ClarificationRow(
        id=q.clarification_id,
        competition_id=q.competition_id,
        round=q.round,
        asked_by=q.asked_by,
        question=q.question,
        asked_at=q.asked_at,
        answer=q.answer,
        answered_by=q.answered_by,
        answered_at=q.answered_at,
    )


class EvaluatorScoreRow(ProcurementModel, table=True):
    """One evaluator's quality scores for one bid (re-scoring replaces them in place;
    the audit log keeps every submission)."""

    __tablename__ = "evaluator_score"
    __table_args__ = (UniqueConstraint("bid_id", "evaluator"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: str = Field(max_length=64, index=True, foreign_key="competition.id")
    bid_id: str = Field(max_length=36, foreign_key="bid.id")
    round: int
    evaluator: str = Field(max_length=200)
    scores: dict[str, str] = _json()
    comment: str | None = Field(default=None, max_length=2000)
    scored_at: datetime = _aware()


def evaluator_scores_to_domain(row: EvaluatorScoreRow) -> d.EvaluatorScores:
    return d.EvaluatorScores(
        bid_id=row.bid_id,
        evaluator=row.evaluator,
        scores={k: Decimal(v) for k, v in row.scores.items()},
        scored_at=row.scored_at,
        comment=row.comment,
    )


def set_aside_of(row: CompetitionRow) -> dict[str, str]:
    """Bid id -> reason, for the bids of the current round set aside at the deadline."""
    return {s["bid_id"]: s["reason"] for s in row.set_aside or [] if s["round"] == row.round}


# -------------------------------------------------------- evaluations and awards


class EvaluationRow(ProcurementModel, table=True):
    """The ranked, explainable evaluation of one round of a competition."""

    __tablename__ = "evaluation"
    __table_args__ = (UniqueConstraint("competition_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    competition_id: str = Field(max_length=64, index=True, foreign_key="competition.id")
    round: int
    quality_weight: int
    price_weight: int
    lowest_price: str | None = Field(default=None, max_length=30)
    ranking: list[dict[str, Any]] = _json()
    non_compliant: list[dict[str, Any]] = _json()
    tie_break_rule: str = Field(max_length=1000)
    quality_basis: str = Field(max_length=1000)
    evaluated_at: datetime = _aware()


def evaluation_row(r: d.EvaluationResult, basis: str, at: datetime) -> EvaluationRow:
    return EvaluationRow(
        competition_id=r.competition_id,
        round=r.round,
        quality_weight=r.quality_weight,
        price_weight=r.price_weight,
        lowest_price=_str_or_none(r.lowest_price),
        ranking=[
            {
                "rank": s.rank,
                "bid_id": s.bid_id,
                "provider_id": s.provider_id,
                "price": str(s.price),
                "price_score": str(s.price_score),
                "quality_score": str(s.quality_score),
                "total": str(s.total),
                "question_scores": {k: str(v) for k, v in s.question_scores.items()},
                "submitted_at": s.submitted_at.isoformat(),
            }
            for s in r.ranking
        ],
        non_compliant=[asdict(n) for n in r.non_compliant],
        tie_break_rule=r.tie_break_rule,
        quality_basis=basis,
        evaluated_at=at,
    )


def evaluation_to_domain(row: EvaluationRow) -> d.EvaluationResult:
    return d.EvaluationResult(
        competition_id=row.competition_id,
        round=row.round,
        quality_weight=row.quality_weight,
        price_weight=row.price_weight,
        lowest_price=_dec_or_none(row.lowest_price),
        ranking=tuple(
            d.BidScore(
                rank=s["rank"],
                bid_id=s["bid_id"],
                provider_id=s["provider_id"],
                price=Decimal(s["price"]),
                price_score=Decimal(s["price_score"]),
                quality_score=Decimal(s["quality_score"]),
                total=Decimal(s["total"]),
                question_scores={k: Decimal(v) for k, v in s["question_scores"].items()},
                submitted_at=datetime.fromisoformat(s["submitted_at"]),
            )
            for s in row.ranking
        ),
        non_compliant=tuple(d.NonCompliantBid(**n) for n in row.non_compliant),
        tie_break_rule=row.tie_break_rule,
    )


class AwardRow(ProcurementModel, table=True):
    """An approved award with the winning bid's commercial terms."""

    __tablename__ = "award"

    competition_id: str = Field(primary_key=True, max_length=64, foreign_key="competition.id")
    bid_id: str = Field(max_length=36)
    provider_id: str = Field(max_length=36, index=True)
    round: int
    approved_by: str = Field(max_length=200)
    approved_at: datetime = _aware()
    contract_value: str = Field(max_length=30)
    terms: dict[str, Any] = _json()  # the procurement.competition.awarded payload
    # "Awarded, in standstill" until standstill_ended_at is set (then the contract exists).
    contract_awaits_standstill: bool = False
    standstill_ends_at: datetime | None = _aware(nullable=True)
    standstill_ended_at: datetime | None = _aware(nullable=True)


def award_to_domain(row: AwardRow) -> d.Award:
    """The approved award as the domain knows it, from its stored event payload."""
    t = procurement_v1.CompetitionAwarded.model_validate(row.terms)
    return d.Award(
        competition_id=t.competition_id,
        scheme_id=t.scheme_id,
        round=t.round,
        kind=d.CompetitionKind(t.kind),
        category_code=t.category_code,
        lot_code=t.lot_code,
        bid_id=t.bid_id,
        provider_id=t.provider_id,
        places=t.places,
        need_ref=t.need_ref,
        fee_basis=d.FeeBasis(t.fee_basis),
        core_fee=t.core_fee,
        weekly_core_fee=t.weekly_core_fee,
        weeks_per_year=t.weeks_per_year,
        additional_support=tuple(
            d.SupportItem(i.description, i.amount, d.ChargeBasis(i.basis))
            for i in t.additional_support
        ),
        start_date=t.start_date,
        end_date=t.end_date,
        annual_value=t.annual_value,
        contract_value=t.contract_value,
        price_score=t.price_score,
        quality_score=t.quality_score,
        total_score=t.total_score,
        approved_by=t.approved_by,
        approved_at=t.approved_at,
        standstill_ends_at=t.standstill_ends_at,
        notice_due_on=t.notice_due_on,
        contract_awaits_standstill=row.contract_awaits_standstill,
    )


class NoticeRow(ProcurementModel, table=True):
    """An award notice the council must publish (grouped by quarter where allowed)."""

    __tablename__ = "award_notice"

    competition_id: str = Field(primary_key=True, max_length=64, foreign_key="competition.id")
    scheme_id: str = Field(max_length=36, index=True)
    scheme_reference: str = Field(max_length=100)
    regime: str = Field(max_length=40)
    description: str = Field(max_length=1000)
    provider_id: str = Field(max_length=36)
    value: str = Field(max_length=30)
    awarded_on: date = Field(index=True)
    contract_start: date
    contract_end: date | None = None
    quarter: str = Field(max_length=10, index=True)
    grouped: bool = True
    due_on: date


class TrackedNoticeRow(ProcurementModel, table=True):
    """Every notice the council must publish, of any kind: due, sent, published, overdue."""

    __tablename__ = "notice"

    notice_id: str = Field(primary_key=True, max_length=100)
    kind: str = Field(max_length=40, index=True)
    scheme_id: str = Field(max_length=36, index=True)
    competition_id: str | None = Field(default=None, max_length=64, index=True)
    due_on: date = Field(index=True)
    rule: str = Field(max_length=1000)
    status: str = Field(max_length=20, index=True)
    sent_by: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = _aware(nullable=True)
    published_by: str | None = Field(default=None, max_length=200)
    published_at: datetime | None = _aware(nullable=True)
    publication_ref: str | None = Field(default=None, max_length=200)
    overdue_at: datetime | None = _aware(nullable=True)


def tracked_notice_row(n: d.TrackedNotice, row: TrackedNoticeRow | None = None) -> TrackedNoticeRow:
    """A new row for ``n``, or ``row`` brought up to date with it."""
    values: dict[str, Any] = {
        "kind": n.kind.value,
        "scheme_id": n.scheme_id,
        "competition_id": n.competition_id,
        "due_on": n.due_on,
        "rule": n.rule,
        "status": n.status.value,
        "sent_by": n.sent_by,
        "sent_at": n.sent_at,
        "published_by": n.published_by,
        "published_at": n.published_at,
        "publication_ref": n.publication_ref,
        "overdue_at": n.overdue_at,
    }
    if row is None:
        return TrackedNoticeRow(notice_id=n.notice_id, **values)
    for name, value in values.items():
        setattr(row, name, value)
    return row


def tracked_notice_to_domain(row: TrackedNoticeRow) -> d.TrackedNotice:
    return d.TrackedNotice(
        notice_id=row.notice_id,
        kind=d.NoticeKind(row.kind),
        scheme_id=row.scheme_id,
        competition_id=row.competition_id,
        due_on=row.due_on,
        rule=row.rule,
        status=d.NoticeStatus(row.status),
        sent_by=row.sent_by,
        sent_at=row.sent_at,
        published_by=row.published_by,
        published_at=row.published_at,
        publication_ref=row.publication_ref,
        overdue_at=row.overdue_at,
    )


def notice_row(n: d.AwardNotice) -> NoticeRow:
    return NoticeRow(
        competition_id=n.competition_id,
        scheme_id=n.scheme_id,
        scheme_reference=n.scheme_reference,
        regime=n.regime.value,
        description=n.description,
        provider_id=n.provider_id,
        value=str(n.value),
        awarded_on=n.awarded_on,
        contract_start=n.contract_start,
        contract_end=n.contract_end,
        quarter=str(n.quarter),
        grouped=n.grouped,
        due_on=n.due_on,
    )


def notice_to_domain(row: NoticeRow) -> d.AwardNotice:
    year, q = row.quarter.split("-Q")
    return d.AwardNotice(
        competition_id=row.competition_id,
        scheme_id=row.scheme_id,
        scheme_reference=row.scheme_reference,
        regime=d.RegimeCode(row.regime),
        description=row.description,
        provider_id=row.provider_id,
        value=Decimal(row.value),
        awarded_on=row.awarded_on,
        contract_start=row.contract_start,
        contract_end=row.contract_end,
        quarter=d.Quarter(int(year), int(q)),
        grouped=row.grouped,
        due_on=row.due_on,
    )


# ------------------------------------------------------------------------ helpers


def _dec_or_none(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


def _str_or_none(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def _iso_or_none(v: date | None) -> str | None:
    return None if v is None else v.isoformat()


def _date_or_none(v: str | None) -> date | None:
    return None if v is None else date.fromisoformat(v)
