"""Scheme tables and their mapping to the domain."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Field

from services.procurement import domain as d
from services.procurement.domain.frameworks import FrameworkReopening
from services.procurement.models._base import (
    ProcurementModel,
    _aware,
    _dec_or_none,
    _json,
    _str_or_none,
)
from shared.contracts.common import Attendance, NeedType
from shared.infra_models import utcnow

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
    # Procurement Act 2023 regimes (migration 0015): light touch services, and an open
    # framework's planned and held reopenings.
    light_touch: bool = False
    reopening_dates: list[str] | None = _json(nullable=True)
    reopenings: list[dict[str, Any]] | None = _json(nullable=True)


def _reopening_json(r: FrameworkReopening) -> dict[str, Any]:
    return {
        "number": r.number,
        "on": r.on.isoformat(),
        "planned_on": r.planned_on.isoformat(),
        "recorded_by": r.recorded_by,
        "recorded_at": r.recorded_at.isoformat(),
        "reason": r.reason,
    }


def _reopening(raw: dict[str, Any]) -> FrameworkReopening:
    return FrameworkReopening(
        number=raw["number"],
        on=date.fromisoformat(raw["on"]),
        planned_on=date.fromisoformat(raw["planned_on"]),
        recorded_by=raw["recorded_by"],
        recorded_at=datetime.fromisoformat(raw["recorded_at"]),
        reason=raw["reason"],
    )


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
        light_touch=bool(row.light_touch),
        reopening_dates=tuple(date.fromisoformat(x) for x in row.reopening_dates or ()),
        reopenings=tuple(_reopening(r) for r in row.reopenings or ()),
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
        light_touch=s.light_touch,
        reopening_dates=[x.isoformat() for x in s.reopening_dates],
        reopenings=[_reopening_json(r) for r in s.reopenings],
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
    row.reopenings = [_reopening_json(r) for r in s.reopenings]
