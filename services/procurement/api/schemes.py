"""HTTP routes of procurement's schemes: create, read, change status and amend (with
their notices)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import Field
from sqlalchemy.exc import IntegrityError

from services.procurement import domain as d
from services.procurement.api._common import Runtime, current_time
from services.procurement.clocks import start_notice_clock
from services.procurement.commands import schemes as commands
from services.procurement.domain.frameworks import (
    framework_number,
    next_reopening_due,
    statutory_reopening_deadline,
)
from services.procurement.models import (
    SchemeRow,
    award_criteria_json,
    period_notice_json,
    scheme_to_domain,
)
from services.procurement.policy import ALLOWED
from shared.api_types import RequestBody
from shared.contracts import procurement_v1
from shared.contracts.common import Attendance, NeedType
from shared.errors import Conflict, NotFound
from shared.unit_of_work import Actor, unit_of_work
from shared.working_days import london_date

router = APIRouter(tags=["procurement"])


# ==================================================================== schemes


class CategoryIn(RequestBody):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    need_types: list[NeedType] = Field(min_length=1)
    attendance: list[Attendance] = Field(min_length=1)

    def to_domain(self) -> d.Category:
        return d.Category(
            self.code, self.name, frozenset(self.need_types), frozenset(self.attendance)
        )


class LotIn(RequestBody):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    min_quality_score: Decimal = Field(ge=0, le=100)
    block_contracts_allowed: bool = False
    min_question_score: Decimal | None = None  # e.g. Kent lot 2: >= 6 on each of Q11-16
    min_score_questions: list[str] = []  # the questions it applies to; [] = every scored

    def to_domain(self) -> d.Lot:
        return d.Lot(
            self.code,
            self.name,
            self.min_quality_score,
            self.block_contracts_allowed,
            self.min_question_score,
            tuple(self.min_score_questions),
        )


class AwardQuestionIn(RequestBody):
    question_id: str = Field(min_length=1, max_length=50)
    text: str = Field(min_length=1)
    max_score: int
    weight: int
    min_score: int | None = None

    def to_domain(self) -> d.QualityQuestion:
        return d.QualityQuestion(
            self.question_id, self.text, self.max_score, self.weight, self.min_score
        )


class AwardCriteriaIn(RequestBody):
    """The call-off award criteria the scheme publishes (reg 34(23)-(24), reg 76(4))."""

    quality_weight: int
    price_weight: int
    quality_questions: list[AwardQuestionIn] = []

    def to_domain(self) -> d.AwardCriteria:
        return d.AwardCriteria(
            self.quality_weight,
            self.price_weight,
            tuple(q.to_domain() for q in self.quality_questions),
        )


class QuestionIn(RequestBody):
    question_id: str = Field(min_length=1, max_length=50)
    text: str = Field(min_length=1)
    kind: d.QuestionKind
    max_score: int = 0
    weight: int = 0
    min_score: Decimal | None = None

    def to_domain(self) -> d.SelectionQuestion:
        return d.SelectionQuestion(
            self.question_id, self.text, self.kind, self.max_score, self.weight, self.min_score
        )


class SchemeIn(RequestBody):
    reference: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    regime: procurement_v1.RegimeCode = "pcr2015"
    term_start: date
    term_end: date
    max_extension_end: date | None = None
    categories: list[CategoryIn]
    lots: list[LotIn] = []
    selection_questions: list[QuestionIn] = []
    pass_mark: Decimal = Decimal(0)
    required_documents: list[d.DocumentKind] = list(d.DocumentKind)
    min_tender_days: int = 10
    urgent_min_tender_days: int = 3
    late_joiner_min_days: int | None = None
    voluntary_standstill: bool = False
    standstill_blocks_above_threshold: bool = True
    group_notices_quarterly: bool = True
    open: bool = True  # open for requests to participate at once
    # Issue 12: the call-off rules the scheme published, and its establishment.
    narrowing_published: bool = False  # tiers/cascade and age/distance screening
    award_criteria: AwardCriteriaIn | None = None  # None: d.DEFAULT_AWARD_CRITERIA
    extension_ends: list[date] = []  # the optional extensions' term ends, in order
    # When the DPS was established (imported schemes: the original date). Default: the
    # term start if it has begun (an existing DPS being recorded), else today.
    established_on: date | None = None
    # Procurement Act 2023: a scheme for light touch services (s.9; Procurement
    # Regulations 2024 Sch 1) runs under its regime's light touch variant.
    light_touch: bool = False
    # Open framework (s.49(2)): when the next frameworks are awarded (reopenings).
    reopening_dates: list[date] = []

    def to_domain(self, scheme_id: str, today: date) -> d.Scheme:
        established = self.established_on or min(self.term_start, today)
        return d.Scheme(
            scheme_id=scheme_id,
            reference=self.reference,
            title=self.title,
            regime=d.RegimeCode(self.regime),
            term_start=self.term_start,
            term_end=self.term_end,
            categories=tuple(c.to_domain() for c in self.categories),
            selection_questions=tuple(q.to_domain() for q in self.selection_questions),
            lots=tuple(lot.to_domain() for lot in self.lots),
            pass_mark=self.pass_mark,
            required_documents=frozenset(self.required_documents),
            max_extension_end=self.max_extension_end,
            min_tender_days=self.min_tender_days,
            urgent_min_tender_days=self.urgent_min_tender_days,
            late_joiner_min_days=self.late_joiner_min_days,
            voluntary_standstill=self.voluntary_standstill,
            standstill_blocks_above_threshold=self.standstill_blocks_above_threshold,
            group_notices_quarterly=self.group_notices_quarterly,
            narrowing_published=self.narrowing_published,
            established_on=established,
            imported=established < today,
            award_criteria=(
                self.award_criteria.to_domain() if self.award_criteria else d.DEFAULT_AWARD_CRITERIA
            ),
            extension_ends=tuple(self.extension_ends),
            light_touch=self.light_touch,
            reopening_dates=tuple(self.reopening_dates),
        )


def scheme_view(row: SchemeRow) -> dict[str, Any]:
    return {
        "scheme_id": row.id,
        "reference": row.reference,
        "title": row.title,
        "regime": row.regime,
        "status": row.status,
        "status_reason": row.status_reason,
        "term_start": row.term_start,
        "term_end": row.term_end,
        "max_extension_end": row.max_extension_end,
        "extension_exercised": row.extension_exercised,
        "categories": row.categories,
        "lots": row.lots,
        "selection_questions": row.questions,
        "pass_mark": row.pass_mark,
        "required_documents": row.required_documents,
        "min_tender_days": row.min_tender_days,
        "voluntary_standstill": row.voluntary_standstill,
        "standstill_blocks_above_threshold": row.standstill_blocks_above_threshold,
        **_regime_rules_view(scheme_to_domain(row)),
    }


def _regime_rules_view(s: d.Scheme) -> dict[str, Any]:
    return {
        "light_touch": s.regime_rules.light_touch,
        "regime_rules": _regime_view(s.regime_rules),
        **_call_off_rules_view(s),
        **_framework_view(s),
    }


def _framework_view(s: d.Scheme) -> dict[str, Any]:
    """An open framework's reopening schedule (s.49); empty for other regimes."""
    if s.regime_rules.reopening is None:
        return {}
    return {
        "reopening_dates": list(s.reopening_dates),
        "reopenings": [
            {
                "number": r.number,
                "on": r.on,
                "planned_on": r.planned_on,
                "recorded_by": r.recorded_by,
                "recorded_at": r.recorded_at,
                "reason": r.reason,
            }
            for r in s.reopenings
        ],
        "framework_number": framework_number(s),
        "next_reopening_due": next_reopening_due(s),
        "reopening_deadline": statutory_reopening_deadline(s),
        "reopening_source": s.regime_rules.reopening.source,
    }


def _call_off_rules_view(s: d.Scheme) -> dict[str, Any]:
    return {
        "narrowing_published": s.narrowing_published,
        "tiers_apply": s.may_tier,
        "screening_applies": s.may_screen,
        "established_on": s.established_on,
        "imported": s.imported,
        "last_usable_day": s.last_usable_day,
        "award_criteria": award_criteria_json(s.award_criteria),
        "award_criteria_source": d.AWARD_CRITERIA_SOURCE,
        "extension_ends": list(s.extension_options),
        "extensions": [
            {
                "previous_term_end": e.previous_term_end,
                "term_end": e.term_end,
                "decided_by": e.decided_by,
                "decided_at": e.decided_at,
                "reason": e.reason,
            }
            for e in s.extensions
        ],
        "period_notices": [period_notice_json(n) for n in s.period_notices],
        "period_notice_source": d.PERIOD_NOTICE_SOURCE,
    }


def _regime_view(r: d.Regime) -> dict[str, Any]:
    return {
        "title": r.title,
        "statutory_min_tender_days": r.statutory_min_tender_days,
        "tender_period_source": r.tender_period_source,
        "application_evaluation_working_days": r.application_evaluation_working_days,
        "application_evaluation_max_working_days": r.application_evaluation_max_working_days,
        "standstill_mandatory": r.standstill_mandatory,
        "standstill_source": r.standstill_source,
        "award_notice_days": r.award_notice_days,
        "award_notice_source": r.award_notice_source,
        "may_tier": r.may_tier,
        "may_screen": r.may_screen,
        "invitation_source": r.invitation_source,
        "new_schemes_before": r.new_schemes_before,
        "long_stop": r.long_stop,
        "transition_source": r.transition_source,
        "earliest_establishment": r.earliest_establishment,
        "standstill_days": r.standstill_days,
        "standstill_working_days": r.standstill_working_days,
        "call_off_procedures": [p.value for p in r.call_off_procedures],
        "call_off_source": r.call_off_source,
        "joins_at_any_time": r.joins_at_any_time,
        "membership_source": r.membership_source,
    }


@router.post("/schemes", status_code=status.HTTP_201_CREATED)
async def create_scheme(body: SchemeIn, runtime: Runtime, actor: Actor = ALLOWED) -> dict[str, Any]:
    now = current_time()
    scheme = body.to_domain(str(uuid.uuid4()), london_date(now))
    try:
        async with unit_of_work(runtime.db, runtime.source) as uow:
            row = await commands.create_scheme(uow, actor, scheme, open_now=body.open, now=now)
    except IntegrityError as exc:  # a concurrent create with the same reference
        raise Conflict("reference", "duplicate: a scheme has this reference") from exc
    return scheme_view(row)


@router.get("/schemes/{scheme_id}")
async def get_scheme(scheme_id: str, runtime: Runtime, _: Actor = ALLOWED) -> dict[str, Any]:
    async with runtime.db.session() as session:
        row = await session.get(SchemeRow, scheme_id)
    if row is None:
        raise NotFound("scheme", scheme_id)
    return scheme_view(row)


class SchemeStatusIn(RequestBody):
    action: Literal["open", "suspend", "close", "extend"]
    reason: str = ""


@router.post("/schemes/{scheme_id}/status")
async def change_scheme_status(
    scheme_id: str, body: SchemeStatusIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Open, suspend, close the scheme, or exercise its optional term extension."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        done = await commands.change_scheme_status(
            uow, actor, scheme_id, body.action, body.reason, current_time()
        )
    return await _started(runtime, done)


async def _started(runtime: Runtime, done: commands.SchemeChanged) -> dict[str, Any]:
    """Start the clocks of the period notices the change owes (once committed)."""
    for tracked in done.owed:
        await start_notice_clock(runtime, tracked)
    return scheme_view(done.row)


class SchemeAmendmentIn(RequestBody):
    """The fields to change (those left out stay as they are). Once the scheme is open,
    only what d.AMENDMENT_RULES allow, with a reason; the term end only to the next
    extension the notice allowed."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    term_start: date | None = None
    term_end: date | None = None
    max_extension_end: date | None = None
    extension_ends: list[date] | None = None
    categories: list[CategoryIn] | None = None
    lots: list[LotIn] | None = None
    selection_questions: list[QuestionIn] | None = None
    pass_mark: Decimal | None = None
    required_documents: list[d.DocumentKind] | None = None
    min_tender_days: int | None = None
    award_criteria: AwardCriteriaIn | None = None
    reason: str = Field(default="", max_length=1000)

    def candidate(self, s: d.Scheme) -> d.Scheme:
        """The scheme as it would be with these changes (not yet validated)."""
        given = self.model_fields_set
        changes: dict[str, Any] = {
            name: getattr(self, name)
            for name in ("title", "term_start", "term_end", "pass_mark", "min_tender_days")
            if name in given and getattr(self, name) is not None
        }
        if "max_extension_end" in given:  # null: no optional extension
            changes["max_extension_end"] = self.max_extension_end
        if self.extension_ends is not None:
            changes["extension_ends"] = tuple(self.extension_ends)
        if self.categories is not None:
            changes["categories"] = tuple(c.to_domain() for c in self.categories)
        if self.lots is not None:
            changes["lots"] = tuple(lot.to_domain() for lot in self.lots)
        if self.selection_questions is not None:
            changes["selection_questions"] = tuple(q.to_domain() for q in self.selection_questions)
        if self.required_documents is not None:
            changes["required_documents"] = frozenset(self.required_documents)
        if self.award_criteria is not None:
            changes["award_criteria"] = self.award_criteria.to_domain()
        return replace(s, **changes)


@router.patch("/schemes/{scheme_id}")
async def amend_scheme(
    scheme_id: str, body: SchemeAmendmentIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Amend a scheme: a draft freely; an open or suspended one only as the law allows
    (d.AMENDMENT_RULES), with a reason; the term to its next allowed extension."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        done = await commands.amend_scheme(
            uow, actor, scheme_id, body.candidate, body.reason, current_time()
        )
    return await _started(runtime, done)


class ReopeningIn(RequestBody):
    reason: str = Field(min_length=1, max_length=1000)


@router.post("/schemes/{scheme_id}/reopenings", status_code=status.HTTP_201_CREATED)
async def reopen_framework(
    scheme_id: str, body: ReopeningIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Reopen an open framework (Procurement Act 2023 s.49): the next framework is
    awarded on the same terms, its members carry over and new suppliers may join.
    Refused (422) for other regimes, past the statutory deadline or beyond the planned
    reopenings."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await commands.reopen_framework(uow, actor, scheme_id, body.reason, current_time())
    return scheme_view(row)
