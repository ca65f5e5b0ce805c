"""HTTP routes of procurement: schemes, requests to participate, memberships, call-offs,
bids, awards and award notices.

Every change goes through one unit of work (state, its procurement.v1 events and audit
commit together); workflows are started or signalled only after the commit. A broken
rule is a 422 naming the field and the rule, a clash with the current state a 409.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import AwareDatetime, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from services.procurement import domain as d
from services.procurement.activities import (
    ApplicationClock,
    DeclarationClock,
    finish_evaluation,
    live_bids,
)
from services.procurement.handlers import (
    district_centroid,
    emit_invitations,
    emit_no_eligible,
    invite_late_joiners,
    load_invitations,
    load_memberships,
    load_providers,
    lock,
    open_call_off,
    record_membership_change,
    set_aside_open_bids,
)
from services.procurement.models import (
    ApplicationDraftRow,
    ApplicationRow,
    AwardRow,
    BidRow,
    ClarificationRow,
    CompetitionRow,
    DecisionRow,
    EvaluationRow,
    EvaluatorScoreRow,
    InvitationRow,
    MembershipHistoryRow,
    MembershipRow,
    ProviderRow,
    SchemeRow,
    SelfDeclarationRow,
    application_row,
    application_to_domain,
    apply_amendment,
    apply_competition,
    apply_scheme,
    award_criteria_json,
    award_to_domain,
    bid_row,
    bid_to_domain,
    competition_to_domain,
    decision_row,
    documents_to_domain,
    evaluation_to_domain,
    evaluator_scores_to_domain,
    membership_row,
    membership_to_domain,
    notice_row,
    period_notice_json,
    provider_to_domain,
    scheme_row,
    scheme_to_domain,
    self_declaration_row,
    self_declaration_to_domain,
    set_aside_of,
    tracked_notice_row,
)
from services.procurement.notice_workflows import start_notice_clock, start_standstill_clock
from services.procurement.policy import ALLOWED
from services.procurement.workflows import (
    AwardSignal,
    application_workflow_id,
    competition_workflow_id,
    declaration_workflow_id,
    signal,
    start_application_workflow,
    start_competition_workflow,
    start_declaration_workflow,
)
from shared import clock
from shared.api_types import RequestBody
from shared.audit_read import READS, ReadAudit
from shared.contracts import procurement_v1
from shared.contracts.common import Attendance, NeedType, Role
from shared.errors import Conflict, DomainError, NotFound
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work
from shared.working_days import london_date

router = APIRouter(tags=["procurement"])

Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]

# Rules that clash with the current state rather than with the request: 409.
STATE_RULES = {
    d.Rule.INVALID_TRANSITION,
    d.Rule.ALREADY_DECIDED,
    d.Rule.ALREADY_MEMBER,
    d.Rule.EXTENSION_ALREADY_USED,
    d.Rule.COMPETITION_NOT_OPEN,
    d.Rule.APPROVER_SCORED_BID,
    d.Rule.AMENDMENT_REFUSED,
    d.Rule.CLARIFICATIONS_CLOSED,
    d.Rule.CLARIFICATION_ALREADY_ANSWERED,
    d.Rule.ANSWER_AFTER_DEADLINE,
    d.Rule.WITHDRAWAL_AFTER_DEADLINE,
    d.Rule.NO_LIVE_BID,
    d.Rule.REPLY_BY_PASSED,
    d.Rule.APPLICATION_CLARIFICATION_ANSWERED,
}


@contextmanager
def rules() -> Iterator[None]:
    """Turn a domain refusal into the API's 422 (or 409) naming field and rule."""
    try:
        yield
    except d.DomainError as exc:
        cls = Conflict if exc.rule in STATE_RULES else DomainError
        raise cls(exc.field, f"{exc.rule}: {exc.message}") from exc


def _now() -> datetime:
    return clock.now()  # the wall clock, or the training clock (shared.clock)


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
        "regime_rules": _regime_view(d.REGIMES[d.RegimeCode(row.regime)]),
        **_call_off_rules_view(scheme_to_domain(row)),
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
    }


@router.post("/schemes", status_code=status.HTTP_201_CREATED)
async def create_scheme(body: SchemeIn, runtime: Runtime, actor: Actor = ALLOWED) -> dict[str, Any]:
    now = _now()
    with rules():
        scheme = d.create_scheme(body.to_domain(str(uuid.uuid4()), london_date(now)))
        opened = d.open_scheme(scheme, london_date(now)) if body.open else scheme
    try:
        async with unit_of_work(runtime.db, runtime.source) as uow:
            clash = await uow.session.exec(
                select(SchemeRow).where(SchemeRow.reference == body.reference)
            )
            if clash.first() is not None:
                raise Conflict("reference", "duplicate: a scheme has this reference")
            row = scheme_row(opened, actor.id)
            uow.session.add(row)
            _emit_scheme_created(uow, scheme, actor)
            if body.open:
                _emit(
                    uow,
                    procurement_v1.SchemeOpened(
                        scheme_id=scheme.scheme_id,
                        previous_status="draft",
                        opened_at=now,
                        opened_by=actor.id,
                    ),
                )
            uow.audit(actor, "scheme.created", "scheme", scheme.scheme_id, status=row.status)
    except IntegrityError as exc:  # a concurrent create with the same reference
        raise Conflict("reference", "duplicate: a scheme has this reference") from exc
    return scheme_view(row)


def _emit(uow: UnitOfWork, payload: procurement_v1.ProcurementEvent) -> None:
    uow.emit_raw(procurement_v1.TOPIC, payload.TYPE, payload.subject(), payload)


def _emit_scheme_created(uow: UnitOfWork, s: d.Scheme, actor: Actor) -> None:
    _emit(
        uow,
        procurement_v1.SchemeCreated(
            scheme_id=s.scheme_id,
            reference=s.reference,
            title=s.title,
            regime=s.regime.value,
            term_start=s.term_start,
            term_end=s.term_end,
            max_extension_end=s.max_extension_end,
            categories=[
                procurement_v1.CategoryInfo(
                    code=c.code,
                    name=c.name,
                    need_types=sorted(c.need_types),
                    attendance=sorted(c.attendance),
                )
                for c in s.categories
            ],
            lots=[
                procurement_v1.LotInfo(
                    code=lot.code,
                    name=lot.name,
                    min_quality_score=lot.min_quality_score,
                    block_contracts_allowed=lot.block_contracts_allowed,
                )
                for lot in s.lots
            ],
            required_documents=sorted(s.required_documents),
            min_tender_days=s.tender_days_floor,
            created_by=actor.id,
            established_on=s.established_on,
            imported=s.imported,
            narrowing_published=s.narrowing_published,
            award_quality_weight=s.award_criteria.quality_weight,
            award_price_weight=s.award_criteria.price_weight,
        ),
    )


async def _scheme_row(uow: UnitOfWork, scheme_id: str) -> SchemeRow:
    row = await uow.session.get(SchemeRow, scheme_id)
    if row is None:
        raise NotFound("scheme", scheme_id)
    return row


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
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _scheme_row(uow, scheme_id)
        before = scheme_to_domain(row)
        with rules():
            after = _scheme_transition(before, body, actor, now)
        apply_scheme(row, after)
        uow.session.add(row)
        _emit(uow, _scheme_event(before, after, body, actor, now))
        uow.audit(actor, f"scheme.{body.action}", "scheme", scheme_id, reason=body.reason)
        owed = [
            d.track_period_notice(after, number)
            for number in range(len(before.period_notices) + 1, len(after.period_notices) + 1)
        ]
        for tracked in owed:  # reg 34(27)-(28): tracked like award notices, overdue alerts
            uow.session.add(tracked_notice_row(tracked))
    for tracked in owed:
        await start_notice_clock(runtime, tracked)
    return scheme_view(row)


def _scheme_transition(s: d.Scheme, body: SchemeStatusIn, actor: Actor, now: datetime) -> d.Scheme:
    today = london_date(now)
    if body.action == "open":
        return d.open_scheme(s, today)
    if body.action == "suspend":
        return d.suspend_scheme(s, body.reason)
    if body.action == "close":
        return d.close_scheme(s, body.reason, by=actor.id, now=now)
    return d.extend_scheme_term(s, today, by=actor.id, reason=body.reason, now=now)


def _latest_notice_form(before: d.Scheme, after: d.Scheme) -> str | None:
    new = after.period_notices[len(before.period_notices) :]
    return new[-1].form if new else None


def _scheme_event(
    before: d.Scheme, after: d.Scheme, body: SchemeStatusIn, actor: Actor, now: datetime
) -> procurement_v1.ProcurementEvent:
    sid = after.scheme_id
    if body.action == "open":
        prev: Literal["draft", "suspended"] = (
            "suspended" if before.status is d.SchemeStatus.SUSPENDED else "draft"
        )
        return procurement_v1.SchemeOpened(
            scheme_id=sid, previous_status=prev, opened_at=now, opened_by=actor.id
        )
    if body.action == "suspend":
        return procurement_v1.SchemeSuspended(
            scheme_id=sid, reason=body.reason, suspended_at=now, suspended_by=actor.id
        )
    if body.action == "close":
        return procurement_v1.SchemeClosed(
            scheme_id=sid,
            reason=body.reason,
            closed_at=now,
            closed_by=actor.id,
            previous_term_end=before.term_end_effective,
            period_notice_form=_latest_notice_form(before, after),
        )
    return _extended_event(before, after, body.reason, actor, now)


def _extended_event(
    before: d.Scheme, after: d.Scheme, reason: str, actor: Actor, now: datetime
) -> procurement_v1.SchemeExtended:
    return procurement_v1.SchemeExtended(
        scheme_id=after.scheme_id,
        previous_term_end=before.term_end_effective,
        term_end=after.term_end_effective,
        extended_at=now,
        extended_by=actor.id,
        reason=reason,
        extension_number=after.extensions_used,
        extensions_allowed=len(after.extension_options),
        period_notice_form=_latest_notice_form(before, after),
    )


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
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _scheme_row(uow, scheme_id)
        before = scheme_to_domain(row)
        with rules():
            done = d.amend_scheme(
                before, body.candidate(before), by=actor.id, reason=body.reason, now=now
            )
        apply_amendment(row, done.scheme)
        uow.session.add(row)
        _emit(
            uow,
            procurement_v1.SchemeAmended(
                scheme_id=scheme_id,
                status=before.status.value,
                changed=list(done.changed),
                reason=body.reason or None,
                amended_at=now,
                amended_by=actor.id,
            ),
        )
        owed = []
        if done.extended:
            _emit(uow, _extended_event(before, done.scheme, body.reason, actor, now))
            owed = [d.track_period_notice(done.scheme, len(done.scheme.period_notices))]
            uow.session.add(tracked_notice_row(owed[0]))
        uow.audit(
            actor,
            "scheme.amended",
            "scheme",
            scheme_id,
            changed=list(done.changed),
            reason=body.reason,
        )
    for tracked in owed:
        await start_notice_clock(runtime, tracked)
    return scheme_view(row)


# =============================================================== applications


class ApplicationIn(RequestBody):
    requested_categories: list[str] = Field(min_length=1)
    answers: dict[str, str] = {}


def application_view(row: ApplicationRow, decision: DecisionRow | None) -> dict[str, Any]:
    return {
        "application_id": row.id,
        "scheme_id": row.scheme_id,
        "provider_id": row.provider_id,
        "requested_categories": row.requested_categories,
        "status": row.status,
        "submitted_at": row.submitted_at,
        "evaluation_working_days": row.evaluation_working_days,
        "evaluation_due_on": row.due_on,
        "evaluation_due_at": row.due_at,
        "reminder_at": row.reminder_at,
        "extension_reason": row.extension_reason,
        "decision": None
        if decision is None
        else {
            "outcome": decision.outcome,
            "admitted_categories": decision.admitted_categories,
            "refused_categories": decision.refused_categories,
            "criteria": decision.criteria,
            "quality_score": decision.quality_score,
            "lot_code": decision.lot_code,
            "decided_by": decision.decided_by,
            "decided_at": decision.decided_at,
            "decided_late": decision.decided_late,
        },
    }


async def _provider(uow: UnitOfWork, provider_id: str) -> ProviderRow:
    row = await uow.session.get(ProviderRow, provider_id)
    if row is None:
        raise DomainError("provider_id", "unknown: not (yet) in the register")
    return row


def _own_provider(actor: Actor) -> str:
    if not actor.provider_id:
        raise DomainError("provider_id", "required: the token names no provider")
    return actor.provider_id


@router.post("/schemes/{scheme_id}/applications", status_code=status.HTTP_201_CREATED)
async def submit_application(
    scheme_id: str, body: ApplicationIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """A request to participate by the provider the token names (its own only)."""
    provider_id = _own_provider(actor)
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        scheme = scheme_to_domain(await _scheme_row(uow, scheme_id))
        provider = await _provider(uow, provider_id)
        with rules():
            # Documents and register activity are selection criteria, decided within the
            # clock; only a suspended or removed provider is refused here.
            d.require_may_apply(provider.status)
            application = d.submit_application(
                scheme,
                application_id=str(uuid.uuid4()),
                provider_id=provider_id,
                requested_categories=body.requested_categories,
                answers=body.answers,
                existing_memberships=await load_memberships(uow, scheme_id),
                now=now,
            )
        row = application_row(application)
        uow.session.add(row)
        # The draft becomes the request: gone in the same transaction as the submission.
        draft = await uow.session.get(ApplicationDraftRow, (scheme_id, provider_id))
        if draft is not None:
            await uow.session.delete(draft)
        _emit(
            uow,
            procurement_v1.ApplicationSubmitted(
                application_id=row.id,
                scheme_id=scheme_id,
                provider_id=provider_id,
                requested_categories=row.requested_categories,
                submitted_at=now,
                evaluation_due_on=row.due_on,
                evaluation_due_at=row.due_at,
                reminder_at=row.reminder_at,
            ),
        )
        uow.audit(actor, "application.submitted", "application", row.id, scheme_id=scheme_id)
    await start_application_workflow(runtime, _app_clock(row))
    return application_view(row, None)


def _app_clock(row: ApplicationRow) -> ApplicationClock:
    return ApplicationClock(application_id=row.id, reminder_at=row.reminder_at, due_at=row.due_at)


async def _application(uow: UnitOfWork, application_id: str) -> ApplicationRow:
    await lock(uow, ApplicationRow, application_id)
    row = await uow.session.get(ApplicationRow, application_id)
    if row is None:
        raise NotFound("application", application_id)
    return row


class AssessmentIn(RequestBody):
    passed: bool | None = None
    score: Decimal | None = None
    note: str = ""


class DecisionIn(RequestBody):
    assessments: dict[str, AssessmentIn] = {}
    refused_categories: dict[str, str] = {}


@router.post("/applications/{application_id}/decision")
async def decide_application(
    application_id: str, body: DecisionIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Record the decision (who decided, every criterion); admitted members are invited
    to open call-offs of their categories as late joiners."""
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _application(uow, application_id)
        if row.status == "decided":
            raise Conflict("application_id", "already_decided: the application was decided")
        scheme = scheme_to_domain(await _scheme_row(uow, row.scheme_id))
        provider = await uow.session.get(ProviderRow, row.provider_id)
        snapshot = (
            provider_to_domain(provider)
            if provider
            else d.ProviderSnapshot(row.provider_id, active=False)
        )
        with rules():
            result = d.decide_application(
                application_to_domain(row),
                scheme,
                provider=snapshot,
                documents=documents_to_domain(provider),
                assessments={
                    k: d.QuestionAssessment(a.passed, a.score, a.note)
                    for k, a in body.assessments.items()
                },
                decided_by=actor.id,
                now=now,
                refused_categories=body.refused_categories,
            )
        decision = decision_row(result.application)
        row.status = "decided"
        uow.session.add_all([row, decision])
        for m in result.memberships:
            uow.session.add(membership_row(m))
        _emit_decision(uow, result, actor)
        uow.audit(actor, "application.decided", "application", row.id, outcome=decision.outcome)
        await uow.session.flush()
        invited_to = await invite_late_joiners(uow, scheme, result.memberships, now)
    await signal(runtime, application_workflow_id(row.id), "decide")
    view = application_view(row, decision)
    view["late_joiner_invitations"] = invited_to
    return view


def _emit_decision(uow: UnitOfWork, result: d.DecisionResult, actor: Actor) -> None:
    a = result.application
    decision = a.decision
    assert decision is not None
    _emit(
        uow,
        procurement_v1.ApplicationDecided(
            application_id=a.application_id,
            scheme_id=a.scheme_id,
            provider_id=a.provider_id,
            outcome=decision.outcome.value,
            admitted_categories=list(decision.admitted_categories),
            refused_categories=[
                procurement_v1.CategoryRefusal(category_code=r.category_code, reason=r.reason)
                for r in decision.refused_categories
            ],
            criteria=[
                procurement_v1.CriterionOutcome(
                    criterion=c.criterion, passed=c.passed, reason=c.reason, score=c.score
                )
                for c in decision.criteria
            ],
            quality_score=decision.quality_score,
            lot_code=decision.lot_code,
            decided_by=actor.id,
            decided_at=decision.decided_at,
            decided_late=decision.decided_late,
        ),
    )
    for m in result.memberships:
        _emit(
            uow,
            procurement_v1.MembershipAdmitted(
                scheme_id=m.scheme_id,
                provider_id=m.provider_id,
                category_code=m.category_code,
                application_id=m.application_id,
                lot_code=m.lot_code,
                quality_score=m.quality_score,
                admitted_on=m.admitted_on,
            ),
        )


class ExtensionIn(RequestBody):
    reason: str = Field(min_length=1)


@router.post("/applications/{application_id}/extension")
async def extend_application(
    application_id: str, body: ExtensionIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Extend the evaluation once, to 15 working days, with a recorded reason."""
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _application(uow, application_id)
        if row.status == "decided":
            raise Conflict("application_id", "already_decided: the application was decided")
        scheme = scheme_to_domain(await _scheme_row(uow, row.scheme_id))
        with rules():
            extended = d.extend_evaluation(
                application_to_domain(row), scheme, reason=body.reason, by=actor.id, now=now
            )
        row.evaluation_working_days = extended.evaluation_working_days
        row.extension_reason, row.extended_by, row.extended_at = body.reason, actor.id, now
        row.due_on, row.due_at, row.reminder_at = (
            extended.due_on,
            extended.due_at,
            extended.reminder_at,
        )
        uow.session.add(row)
        _emit(
            uow,
            procurement_v1.ApplicationExtended(
                application_id=row.id,
                scheme_id=row.scheme_id,
                provider_id=row.provider_id,
                reason=body.reason,
                extended_by=actor.id,
                extended_at=now,
                evaluation_due_on=row.due_on,
                evaluation_due_at=row.due_at,
            ),
        )
        uow.audit(actor, "application.extended", "application", row.id, reason=body.reason)
    await signal(runtime, application_workflow_id(row.id), "extend", _app_clock(row))
    return application_view(row, None)


# ================================================================ memberships


@router.get("/schemes/{scheme_id}/members")
async def list_members(scheme_id: str, runtime: Runtime, _: Actor = ALLOWED) -> dict[str, Any]:
    """Every membership of the scheme with its status history."""
    async with runtime.db.session() as session:
        if await session.get(SchemeRow, scheme_id) is None:
            raise NotFound("scheme", scheme_id)
        rows = (
            await session.exec(
                select(MembershipRow)
                .where(MembershipRow.scheme_id == scheme_id)
                .order_by(col(MembershipRow.provider_id), col(MembershipRow.category_code))
            )
        ).all()
        history = (
            await session.exec(
                select(MembershipHistoryRow)
                .where(col(MembershipHistoryRow.membership_id).in_([r.id for r in rows]))
                .order_by(col(MembershipHistoryRow.id))
            )
        ).all()
    by_member: dict[int, list[dict[str, Any]]] = {}
    for h in history:
        by_member.setdefault(h.membership_id, []).append(
            {"status": h.status, "reason": h.reason, "by": h.changed_by, "at": h.changed_at}
        )
    return {
        "scheme_id": scheme_id,
        "members": [
            {
                "provider_id": r.provider_id,
                "category_code": r.category_code,
                "lot_code": r.lot_code,
                "quality_score": r.quality_score,
                "status": r.status,
                "status_reason": r.status_reason,
                "admitted_on": r.admitted_on,
                "application_id": r.application_id,
                "history": by_member.get(r.id or 0, []),
            }
            for r in rows
        ],
    }


class MembershipStatusIn(RequestBody):
    action: Literal["suspend", "reinstate", "end"]
    reason: str
    category_code: str | None = None  # None: every category the provider holds


@router.post("/schemes/{scheme_id}/members/{provider_id}/status")
async def change_membership(
    scheme_id: str,
    provider_id: str,
    body: MembershipStatusIn,
    runtime: Runtime,
    actor: Actor = ALLOWED,
) -> dict[str, Any]:
    """Suspend, reinstate or end a membership (e.g. after a quality recommendation)."""
    today = london_date(_now())
    async with unit_of_work(runtime.db, runtime.source) as uow:
        rows = [
            r
            for r in (
                await uow.session.exec(
                    select(MembershipRow).where(
                        MembershipRow.scheme_id == scheme_id,
                        MembershipRow.provider_id == provider_id,
                    )
                )
            ).all()
            if body.category_code in (None, r.category_code)
        ]
        if not rows:
            raise NotFound("membership", f"{scheme_id}/{provider_id}")
        change = {
            "suspend": d.suspend_membership,
            "reinstate": d.reinstate_membership,
            "end": d.end_membership,
        }[body.action]
        for row in rows:
            with rules():
                changed = change(membership_to_domain(row), body.reason, actor.id, today)
            record_membership_change(uow, row, changed)
            await set_aside_open_bids(uow, changed)
    return {
        "provider_id": provider_id,
        "changed": [r.category_code for r in rows],
        "status": rows[0].status,
    }


# ============================================== renewed self-declarations


class DeclarationRequestIn(RequestBody):
    reason: str = ""


class DeclarationIn(RequestBody):
    declaration: dict[str, str] = Field(min_length=1)


def declaration_view(row: SelfDeclarationRow, now: datetime) -> dict[str, Any]:
    r = self_declaration_to_domain(row)
    return {
        "request_id": row.id,
        "scheme_id": row.scheme_id,
        "provider_id": row.provider_id,
        "requested_by": row.requested_by,
        "requested_at": row.requested_at,
        "reason": row.reason,
        "due_on": row.due_on,
        "due_at": row.due_at,
        "status": row.status,
        "answered_at": row.answered_at,
        "answered_late": r.answered_late,
        "declaration": row.declaration,
        "overdue": d.self_declaration_overdue(r, now),
        "overdue_alerted_at": row.overdue_at,
        "source": d.SELF_DECLARATION_SOURCE,
    }


@router.post(
    "/schemes/{scheme_id}/members/{provider_id}/self-declarations",
    status_code=status.HTTP_201_CREATED,
)
async def request_self_declaration(
    scheme_id: str,
    provider_id: str,
    body: DeclarationRequestIn,
    runtime: Runtime,
    actor: Actor = ALLOWED,
) -> dict[str, Any]:
    """Ask a member for a renewed self-declaration, due within 5 working days (reg 34(25))."""
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        scheme = scheme_to_domain(await _scheme_row(uow, scheme_id))
        with rules():
            request = d.request_self_declaration(
                scheme,
                await load_memberships(uow, scheme_id),
                request_id=str(uuid.uuid4()),
                provider_id=provider_id,
                by=actor.id,
                reason=body.reason,
                now=now,
            )
        row = self_declaration_row(request)
        uow.session.add(row)
        _emit(
            uow,
            procurement_v1.SelfDeclarationRequested(
                request_id=row.id,
                scheme_id=scheme_id,
                provider_id=provider_id,
                requested_by=actor.id,
                requested_at=now,
                due_on=row.due_on,
                due_at=row.due_at,
                reason=row.reason,
            ),
        )
        uow.audit(actor, "self_declaration.requested", "self_declaration", row.id)
    await start_declaration_workflow(
        runtime, DeclarationClock(request_id=row.id, due_at=row.due_at)
    )
    return declaration_view(row, now)


async def _declaration(uow: UnitOfWork, request_id: str) -> SelfDeclarationRow:
    await lock(uow, SelfDeclarationRow, request_id)
    row = await uow.session.get(SelfDeclarationRow, request_id)
    if row is None:
        raise NotFound("self_declaration", request_id)
    return row


@router.post("/self-declarations/{request_id}/answer")
async def answer_self_declaration(
    request_id: str, body: DeclarationIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """The member's renewed self-declaration (its own requests only)."""
    provider_id = _own_provider(actor)
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _declaration(uow, request_id)
        if row.provider_id != provider_id:
            raise NotFound("self_declaration", request_id)  # others' are not disclosed
        with rules():
            answered = d.answer_self_declaration(
                self_declaration_to_domain(row),
                provider_id=provider_id,
                declaration=body.declaration,
                now=now,
            )
        row.status, row.answered_by, row.answered_at = "answered", provider_id, now
        row.declaration = dict(answered.declaration)
        uow.session.add(row)
        _emit(
            uow,
            procurement_v1.SelfDeclarationAnswered(
                request_id=row.id,
                scheme_id=row.scheme_id,
                provider_id=provider_id,
                answered_at=now,
                due_on=row.due_on,
                answered_late=answered.answered_late,
            ),
        )
        uow.audit(actor, "self_declaration.answered", "self_declaration", row.id)
    await signal(runtime, declaration_workflow_id(row.id), "answer")
    return declaration_view(row, now)


@router.get("/self-declarations/{request_id}")
async def get_self_declaration(
    request_id: str, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    async with runtime.db.session() as session:
        row = await session.get(SelfDeclarationRow, request_id)
    if row is None or (actor.role == Role.PROVIDER.value and row.provider_id != actor.provider_id):
        raise NotFound("self_declaration", request_id)
    return declaration_view(row, _now())


# =============================================================== competitions


class FilterIn(RequestBody):
    need_type: NeedType
    attendance: Attendance
    min_age: int | None = Field(default=None, ge=0, le=25)
    max_age: int | None = Field(default=None, ge=0, le=25)
    max_distance_km: float | None = None
    origin_postcode_district: str | None = None
    origin_easting: float | None = None
    origin_northing: float | None = None

    def to_domain(self) -> d.FilterCriteria:
        origin = None
        if self.origin_easting is not None and self.origin_northing is not None:
            origin = d.GridPoint(self.origin_easting, self.origin_northing)
        elif self.origin_postcode_district:
            origin = district_centroid(self.origin_postcode_district)
            if origin is None:
                raise DomainError("filter.origin_postcode_district", "unknown postcode district")
        return d.FilterCriteria(
            self.need_type,
            self.attendance,
            self.min_age,
            self.max_age,
            origin,
            self.max_distance_km,
        )


class QualityQuestionIn(AwardQuestionIn):
    pass


class CompetitionIn(RequestBody):
    scheme_id: str
    category_code: str
    kind: d.CompetitionKind
    title: str = Field(min_length=1, max_length=300)
    filter: FilterIn
    # Omitted: the scheme's published award criteria (any other value is refused, 422).
    quality_weight: int | None = None
    price_weight: int | None = None
    quality_questions: list[QualityQuestionIn] | None = None
    places: int = 1
    term_start: date | None = None
    term_end: date | None = None
    need_ref: str | None = None
    deadline_at: AwareDatetime
    urgent_reason: str | None = None

    def to_domain(
        self, competition_id: str, actor: Actor, published: d.AwardCriteria
    ) -> d.CompetitionSpec:
        questions = (
            published.quality_questions
            if self.quality_questions is None
            else tuple(q.to_domain() for q in self.quality_questions)
        )
        return d.CompetitionSpec(
            competition_id=competition_id,
            scheme_id=self.scheme_id,
            category_code=self.category_code,
            kind=self.kind,
            title=self.title,
            filter=self.filter.to_domain(),
            quality_weight=_or(self.quality_weight, published.quality_weight),
            price_weight=_or(self.price_weight, published.price_weight),
            quality_questions=questions,
            places=self.places,
            term_start=self.term_start,
            term_end=self.term_end,
            need_ref=self.need_ref,
            opened_by=actor.id,
        )


def _or(given: int | None, published: int) -> int:
    return published if given is None else given


@router.post("/competitions", status_code=status.HTTP_201_CREATED)
async def open_competition(
    body: CompetitionIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Open a call-off inviting all eligible members of the first tier that has any.

    With nobody eligible, the alert (procurement.competition.no_eligible_members) and
    the screening evidence are recorded, and the answer is a 422 saying why.
    """
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        scheme = scheme_to_domain(await _scheme_row(uow, body.scheme_id))
        spec = body.to_domain(str(uuid.uuid4()), actor, scheme.award_criteria)
        with rules():
            c = await open_call_off(
                uow,
                scheme,
                spec,
                deadline_at=body.deadline_at,
                urgent_reason=body.urgent_reason,
                actor=actor,
                now=now,
            )
    if c.status is d.CompetitionStatus.NO_ELIGIBLE_MEMBERS:
        reasons = [f"{s.provider_id}: {'; '.join(s.reasons)}" for s in c.screenings]
        raise DomainError(
            "category_code",
            "no_eligible_members: "
            + ("; ".join(reasons) or "the category has no members")
            + f" (recorded as competition {c.competition_id})",
        )
    await start_competition_workflow(runtime, c.competition_id, c.deadline_at)
    return await _competition_view(runtime, c.competition_id, actor)


async def _competition_view(
    runtime: ServiceRuntime, competition_id: str, actor: Actor
) -> dict[str, Any]:
    async with runtime.db.session() as session:
        row = await session.get(CompetitionRow, competition_id)
        if row is None:
            raise NotFound("competition", competition_id)
        invitations = (
            await session.exec(
                select(InvitationRow)
                .where(InvitationRow.competition_id == competition_id)
                .order_by(col(InvitationRow.id))
            )
        ).all()
        evaluation = (
            await session.exec(
                select(EvaluationRow)
                .where(EvaluationRow.competition_id == competition_id)
                .order_by(col(EvaluationRow.round).desc())
            )
        ).first()
        award = await session.get(AwardRow, competition_id)
        bids = (
            await session.exec(
                select(BidRow)
                .where(BidRow.competition_id == competition_id)
                .order_by(col(BidRow.submitted_at))
            )
        ).all()
        scores = (
            await session.exec(
                select(EvaluatorScoreRow)
                .where(EvaluatorScoreRow.competition_id == competition_id)
                .order_by(col(EvaluatorScoreRow.id))
            )
        ).all()
        evaluated_rounds = set(
            (
                await session.exec(
                    select(EvaluationRow.round).where(
                        EvaluationRow.competition_id == competition_id
                    )
                )
            ).all()
        )
        questions = (
            await session.exec(
                select(ClarificationRow)
                .where(ClarificationRow.competition_id == competition_id)
                .order_by(col(ClarificationRow.asked_at), col(ClarificationRow.id))
            )
        ).all()
        winner = await session.get(ProviderRow, award.provider_id) if award else None
    if actor.role == Role.PROVIDER.value:
        winner_name = winner.name if winner and winner.name else None
        view = _provider_view(row, invitations, evaluation, award, actor, winner_name)
        return view | _provider_clarifications(row, questions, actor)
    return {
        "competition_id": row.id,
        "scheme_id": row.scheme_id,
        "category_code": row.category_code,
        "kind": row.kind,
        "title": row.title,
        "status": row.status,
        "round": row.round,
        "current_lot": row.current_lot,
        "need_ref": row.need_ref,
        "opened_at": row.opened_at,
        "deadline_at": row.deadline_at,
        "closed_at": row.closed_at,
        "urgent_reason": row.urgent_reason,
        "spec": row.spec,
        "invitations": [
            {
                "provider_id": i.provider_id,
                "lot_code": i.lot_code,
                "round": i.round,
                "reason": i.reason,
                "invited_at": i.invited_at,
            }
            for i in invitations
        ],
        "screenings": row.screenings,
        "tier_steps": row.tier_steps,
        "outcomes": row.outcomes,
        # Sealed until its round's deadline: who bid and when; the offer (prices and
        # answers to the quality questions, which evaluators score) once closed.
        "bids": [
            {
                "bid_id": b.id,
                "provider_id": b.provider_id,
                "round": b.round,
                "version": b.version,
                "superseded": b.superseded,
                "submitted_at": b.submitted_at,
                "withdrawn_at": b.withdrawn_at,
                "offer": b.offer if _unsealed(row, b) else None,
            }
            for b in bids
        ],
        "set_aside": row.set_aside or [],
        # Each evaluator scores blind to the others until the ranking moderates the
        # scores (their mean): until then a caller sees only its own score sheet.
        "scores_moderated": row.round in evaluated_rounds,
        "evaluator_scores": [
            {
                "bid_id": s.bid_id,
                "round": s.round,
                "evaluator": s.evaluator,
                "scores": s.scores,
                "comment": s.comment,
                "scored_at": s.scored_at,
            }
            for s in scores
            if s.round in evaluated_rounds or s.evaluator == actor.id
        ],
        "clarifications_close_at": d.clarifications_close_at(row.deadline_at),
        "clarifications": [clarification_view(q) for q in questions],
        "evaluation": None if evaluation is None else _evaluation_view(evaluation),
        "award": None if award is None else award.terms,
        "award_status": _award_status(award),
    }


def clarification_view(q: ClarificationRow, *, for_provider: str | None = None) -> dict[str, Any]:
    """A clarification as the council sees it or, with ``for_provider``, as an invited
    provider does: the question and answer, never who asked (only "asked by you")."""
    view: dict[str, Any] = {
        "clarification_id": q.id,
        "round": q.round,
        "question": q.question,
        "asked_at": q.asked_at,
        "answer": q.answer,
        "answered_at": q.answered_at,
    }
    if for_provider is None:
        return view | {"asked_by": q.asked_by, "answered_by": q.answered_by}
    return view | {"asked_by_you": q.asked_by == for_provider}


def _provider_clarifications(row: CompetitionRow, questions: Any, actor: Actor) -> dict[str, Any]:
    """Every answered clarification, and the provider's own questions still unanswered."""
    shown = [q for q in questions if q.answer is not None or q.asked_by == actor.provider_id]
    return {
        "clarifications_close_at": d.clarifications_close_at(row.deadline_at),
        "clarifications": [clarification_view(q, for_provider=actor.provider_id) for q in shown],
    }


def _award_status(award: AwardRow | None) -> str | None:
    """ "awarded, in standstill" until the contract is concluded when standstill ends."""
    if award is None:
        return None
    if award.contract_awaits_standstill and award.standstill_ended_at is None:
        return "in_standstill"
    return "contract_concluded"


def _unsealed(row: CompetitionRow, bid: BidRow) -> bool:
    return bid.round < row.round or row.status != d.CompetitionStatus.OPEN.value


def _evaluation_view(e: EvaluationRow) -> dict[str, Any]:
    return {
        "round": e.round,
        "quality_weight": e.quality_weight,
        "price_weight": e.price_weight,
        "lowest_price": e.lowest_price,
        "ranking": e.ranking,
        "non_compliant": e.non_compliant,
        "tie_break_rule": e.tie_break_rule,
        "quality_basis": e.quality_basis,
        "evaluated_at": e.evaluated_at,
    }


def _provider_view(
    row: CompetitionRow,
    invitations: Any,
    evaluation: EvaluationRow | None,
    award: AwardRow | None,
    actor: Actor,
    winner_name: str | None,
) -> dict[str, Any]:
    """A bidder sees its own invitation and, after award, the information reg 55/86
    gives it: its scores, the winner's, the winning bid's relative advantages and, where
    the rules require, the winner's name (built by the domain's losing_bidder_feedback)."""
    mine = [i for i in invitations if i.provider_id == actor.provider_id]
    if not mine:
        raise NotFound("competition", row.id)  # others' call-offs are not disclosed
    view: dict[str, Any] = {
        "competition_id": row.id,
        "title": row.title,
        "status": row.status,
        "round": row.round,
        "deadline_at": row.deadline_at,
        "spec": _provider_spec(row.spec),
        "invited_at": mine[-1].invited_at,
        "feedback": None,
    }
    if award is not None and evaluation is not None:
        questions = competition_to_domain(row, []).spec.quality_questions
        with rules():  # the domain checks the award is the evaluation's winner
            feedback = d.losing_bidder_feedback(
                evaluation_to_domain(evaluation),
                award_to_domain(award),
                winner_name=winner_name,
                questions=questions,
            )
        own = [f for f in feedback if f.provider_id == actor.provider_id]
        if award.provider_id == actor.provider_id:
            view["feedback"] = {"outcome": "awarded to you"}
        elif own:
            view["feedback"] = _feedback_view(own[0])
        else:
            view["feedback"] = {"outcome": "no bid received from you"}
    return view


def _provider_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The need as a bidder sees it: the search point (near the child's home) and who
    opened the call-off stay with the council; the distance limit is enough to bid."""
    shown = {k: v for k, v in spec.items() if k != "opened_by"}
    shown["filter"] = {k: v for k, v in spec["filter"].items() if k != "origin"}
    return shown


def _feedback_view(f: d.BidderFeedback) -> dict[str, Any]:
    def text(x: Decimal | None) -> str | None:
        return None if x is None else str(x)

    return {
        "provider_id": f.provider_id,
        "outcome": f.outcome.value,
        "reason": f.reason,
        "own_rank": f.own_rank,
        "own_price_score": text(f.own_price_score),
        "own_quality_score": text(f.own_quality_score),
        "own_total": text(f.own_total),
        "winner_name": f.winner_name,
        "winner_price_score": text(f.winner_price_score),
        "winner_quality_score": text(f.winner_quality_score),
        "winner_total": text(f.winner_total),
        "relative_advantages": list(f.relative_advantages),
        "standstill_ends_at": f.standstill_ends_at,
    }


@router.get("/competitions/{competition_id}")
async def get_competition(
    competition_id: str, runtime: Runtime, actor: Actor = ALLOWED, reads: ReadAudit = READS
) -> dict[str, Any]:
    """The call-off with its invitation list (evidence) and, once evaluated, its ranking;
    an invited provider sees its own invitation and, after award, its feedback."""
    view = await _competition_view(runtime, competition_id, actor)
    # A call-off is one child's need (its requirements, not who the child is): audited.
    await reads.record(actor, "competition", [(competition_id, None)])
    return view


class SupportItemIn(RequestBody):
    description: str
    amount: Decimal
    basis: d.ChargeBasis


class BidIn(RequestBody):
    fee_basis: d.FeeBasis
    core_fee: Decimal
    weeks_per_year: int
    start_date: date
    answers: dict[str, str] = {}
    additional_support: list[SupportItemIn] = []


async def _competition_row(uow: UnitOfWork, competition_id: str) -> CompetitionRow:
    await lock(uow, CompetitionRow, competition_id)
    row = await uow.session.get(CompetitionRow, competition_id)
    if row is None:
        raise NotFound("competition", competition_id)
    return row


@router.post("/competitions/{competition_id}/bids", status_code=status.HTTP_201_CREATED)
async def submit_bid(
    competition_id: str, body: BidIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """A sealed bid from an invited, active member before the deadline; a resubmission
    replaces the provider's live bid (the earlier one is kept, superseded)."""
    provider_id = _own_provider(actor)
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _competition_row(uow, competition_id)
        c = competition_to_domain(row, await load_invitations(uow, competition_id))
        scheme = scheme_to_domain(await _scheme_row(uow, row.scheme_id))
        membership = await _membership(uow, row, provider_id)
        live = (
            await uow.session.exec(
                select(BidRow).where(
                    BidRow.competition_id == competition_id,
                    BidRow.provider_id == provider_id,
                    BidRow.round == row.round,
                    col(BidRow.superseded).is_(False),
                )
            )
        ).all()
        earlier = await _earlier_version(uow, row, provider_id)
        offer = d.BidOffer(
            provider_id=provider_id,
            fee_basis=body.fee_basis,
            core_fee=body.core_fee,
            weeks_per_year=body.weeks_per_year,
            start_date=body.start_date,
            answers=body.answers,
            additional_support=tuple(
                d.SupportItem(i.description, i.amount, i.basis) for i in body.additional_support
            ),
        )
        with rules():
            d.require_scheme_takes_bids(scheme, london_date(now))
            receipt = d.submit_bid(
                c,
                offer,
                bid_id=str(uuid.uuid4()),
                membership=membership,
                live_bids=[bid_to_domain(b) for b in live],
                now=now,
                earlier_versions=earlier,
            )
            await _require_bidder_compliant(uow, scheme, provider_id, now)
        for old in live:
            old.superseded = True
            uow.session.add(old)
        uow.session.add(bid_row(receipt.bid))
        b = receipt.bid
        _emit(
            uow,
            procurement_v1.BidReceived(
                competition_id=competition_id,
                scheme_id=row.scheme_id,
                bid_id=b.bid_id,
                provider_id=provider_id,
                round=b.round,
                version=b.version,
                replaces_bid_id=b.replaces_bid_id,
                submitted_at=now,
            ),
        )
        uow.audit(
            actor, "bid.received", "competition", competition_id, bid_id=b.bid_id, version=b.version
        )
    return {
        "bid_id": b.bid_id,
        "version": b.version,
        "replaces_bid_id": b.replaces_bid_id,
        "submitted_at": now,
        "deadline_at": row.deadline_at,
    }


async def _earlier_version(uow: UnitOfWork, row: CompetitionRow, provider_id: str) -> int:
    """The highest version this provider sent in the round (withdrawn ones included)."""
    versions = (
        await uow.session.exec(
            select(BidRow.version).where(
                BidRow.competition_id == row.id,
                BidRow.provider_id == provider_id,
                BidRow.round == row.round,
            )
        )
    ).all()
    return max(versions, default=0)


@router.post("/competitions/{competition_id}/bids/withdrawal")
async def withdraw_bid(
    competition_id: str, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """The provider withdraws its live bid before the deadline and gets a receipt; the
    bid is kept (superseded) but not evaluated, and it may bid again before the deadline.
    From the deadline: 409 ``withdrawal_after_deadline`` (d.WITHDRAWAL_SOURCE)."""
    provider_id = _own_provider(actor)
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _competition_row(uow, competition_id)
        c = competition_to_domain(row, await load_invitations(uow, competition_id))
        if not any(i.provider_id == provider_id for i in c.invitations):
            raise NotFound("competition", competition_id)  # others' call-offs stay hidden
        live = (
            await uow.session.exec(
                select(BidRow).where(
                    BidRow.competition_id == competition_id,
                    BidRow.provider_id == provider_id,
                    BidRow.round == row.round,
                    col(BidRow.superseded).is_(False),
                )
            )
        ).first()
        with rules():
            d.withdraw_bid(c, None if live is None else bid_to_domain(live), now=now)
        assert live is not None
        live.superseded = True
        live.withdrawn_at = now
        uow.session.add(live)
        uow.audit(
            actor,
            "bid.withdrawn",
            "competition",
            competition_id,
            bid_id=live.id,
            version=live.version,
        )
    return {
        "competition_id": competition_id,
        "bid_id": live.id,
        "version": live.version,
        "withdrawn_at": now,
        "deadline_at": row.deadline_at,
        "rule": d.WITHDRAWAL_SOURCE,
    }


async def _membership(
    uow: UnitOfWork, row: CompetitionRow, provider_id: str
) -> d.Membership | None:
    rows = (
        await uow.session.exec(
            select(MembershipRow).where(
                MembershipRow.scheme_id == row.scheme_id,
                MembershipRow.provider_id == provider_id,
                MembershipRow.category_code == row.category_code,
                MembershipRow.status != d.MembershipStatus.ENDED.value,
            )
        )
    ).all()
    return membership_to_domain(rows[0]) if rows else None


async def _require_bidder_compliant(
    uow: UnitOfWork, scheme: d.Scheme, provider_id: str, now: datetime
) -> None:
    """A provider inactive in the register, or with a document missing or expired,
    cannot bid; the refusal names the document."""
    providers, documents = await load_providers(uow, [provider_id])
    provider = providers.get(provider_id) or d.ProviderSnapshot(provider_id, active=False)
    d.require_admissible(scheme, provider, documents.get(provider_id, ()), london_date(now))


# ========================================================== evaluator scoring


class ScoresIn(RequestBody):
    """One evaluator's quality scores for one bid: question id -> score (0..max, 2 d.p.)."""

    scores: dict[str, Decimal]
    comment: str | None = Field(default=None, max_length=2000)


async def _score_rows(uow: UnitOfWork, row: CompetitionRow) -> list[EvaluatorScoreRow]:
    return list(
        (
            await uow.session.exec(
                select(EvaluatorScoreRow)
                .where(
                    EvaluatorScoreRow.competition_id == row.id,
                    EvaluatorScoreRow.round == row.round,
                )
                .order_by(col(EvaluatorScoreRow.id))
            )
        ).all()
    )


@router.post(
    "/competitions/{competition_id}/bids/{bid_id}/scores", status_code=status.HTTP_201_CREATED
)
async def score_bid(
    competition_id: str,
    bid_id: str,
    body: ScoresIn,
    runtime: Runtime,
    actor: Actor = ALLOWED,
) -> dict[str, Any]:
    """An evaluator (a commissioner, recorded by id; who scores cannot approve the award) scores one compliant bid on
    every quality question while the call-off is in ``evaluation``; scoring the same bid
    again replaces that evaluator's earlier scores. Several evaluators' scores are
    moderated by their mean when the evaluation is ranked."""
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _competition_row(uow, competition_id)
        bid = await uow.session.get(BidRow, bid_id)
        if bid is None or bid.competition_id != competition_id:
            raise NotFound("bid", bid_id)
        c = competition_to_domain(row, await load_invitations(uow, competition_id))
        live = None if bid.superseded else bid_to_domain(bid)
        with rules():
            entry = d.record_evaluator_scores(
                c,
                live,
                set_aside=set_aside_of(row),
                evaluator=actor.id,
                scores=body.scores,
                comment=body.comment,
                now=now,
            )
        existing = (
            await uow.session.exec(
                select(EvaluatorScoreRow).where(
                    EvaluatorScoreRow.bid_id == bid_id, EvaluatorScoreRow.evaluator == actor.id
                )
            )
        ).first()
        target = existing or EvaluatorScoreRow(
            competition_id=competition_id, bid_id=bid_id, round=row.round, evaluator=actor.id
        )
        target.scores = {k: str(v) for k, v in entry.scores.items()}
        target.comment = entry.comment
        target.scored_at = now
        uow.session.add(target)
        uow.audit(
            actor,
            "bid.scored",
            "competition",
            competition_id,
            bid_id=bid_id,
            scores=target.scores,
            replaced=existing is not None,
        )
        await uow.session.flush()
        scored = {s.bid_id for s in await _score_rows(uow, row)}
        bids = await live_bids(uow, row)
        aside = set_aside_of(row)
        unscored = [b.bid_id for b in bids if b.bid_id not in aside and b.bid_id not in scored]
    return {
        "competition_id": competition_id,
        "bid_id": bid_id,
        "evaluator": actor.id,
        "scores": target.scores,
        "comment": entry.comment,
        "scored_at": now,
        "replaced": existing is not None,
        "unscored_bids": unscored,
    }


@router.post("/competitions/{competition_id}/evaluation")
async def evaluate_competition(
    competition_id: str, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Rank a call-off in ``evaluation`` on price (relative to the lowest compliant bid)
    and the evaluators' moderated quality scores, with the tie-break stated up front.
    Refused (422 ``assessment_missing``, naming the bids) while a compliant bid is
    unscored; the commissioner then approves the award or declares no suitable bid."""
    now = _now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _competition_row(uow, competition_id)
        c = competition_to_domain(row, await load_invitations(uow, competition_id))
        if c.status is not d.CompetitionStatus.EVALUATION:
            raise Conflict("status", f"{d.Rule.INVALID_TRANSITION}: competition is {c.status}")
        bids = await live_bids(uow, row)
        entries = [evaluator_scores_to_domain(s) for s in await _score_rows(uow, row)]
        with rules():
            finish_evaluation(uow, row, c, bids, set_aside_of(row), entries, actor, now)
    return await _competition_view(runtime, competition_id, actor)


class AwardIn(RequestBody):
    decision: Literal["approve", "no_suitable_bid"]
    reason: str = ""
    deadline_at: AwareDatetime | None = None  # of the next tier's round, if reopened


# A workflow start to run once the unit of work has committed.
AfterCommit = Callable[[ServiceRuntime], Awaitable[None]]


@router.post("/competitions/{competition_id}/award")
async def award_competition(
    competition_id: str, body: AwardIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Approve the top-ranked bid, or declare no suitable bid (reopen the next tier
    where the scheme is tiered, else escalate)."""
    now = _now()
    after_commit: list[AfterCommit] = []
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _competition_row(uow, competition_id)
        c = competition_to_domain(row, await load_invitations(uow, competition_id))
        scheme = scheme_to_domain(await _scheme_row(uow, row.scheme_id))
        with rules():
            if body.decision == "approve":
                outcome = await _approve(uow, row, c, scheme, actor, now, after_commit)
            else:
                outcome = await _no_suitable_bid(uow, row, c, scheme, body, actor, now)
    await signal(runtime, competition_workflow_id(competition_id), "award_decided", outcome)
    for start in after_commit:  # the standstill and notice clocks
        await start(runtime)
    return await _competition_view(runtime, competition_id, actor)


async def _approve(
    uow: UnitOfWork,
    row: CompetitionRow,
    c: d.Competition,
    scheme: d.Scheme,
    actor: Actor,
    now: datetime,
    after_commit: list[AfterCommit],
) -> AwardSignal:
    evaluation = (
        await uow.session.exec(
            select(EvaluationRow).where(
                EvaluationRow.competition_id == row.id, EvaluationRow.round == row.round
            )
        )
    ).first()
    if evaluation is None:
        raise d.DomainError("status", d.Rule.INVALID_TRANSITION, f"competition is {row.status}")
    result = evaluation_to_domain(evaluation)
    winner = result.winner
    bids = []
    member = None
    if winner is not None:
        bid = await uow.session.get(BidRow, winner.bid_id)
        bids = [bid_to_domain(bid)] if bid else []
        member = await _membership(uow, row, winner.provider_id)
    scorers = await uow.session.exec(
        select(EvaluatorScoreRow.evaluator).where(EvaluatorScoreRow.competition_id == row.id)
    )
    c, award = d.approve_award(
        c,
        scheme,
        result,
        bids,
        approved_by=actor.id,
        winner_membership=member,
        now=now,
        scorers=frozenset(scorers.all()),
    )
    payload = _awarded_payload(award)
    apply_competition(row, c)
    uow.session.add(row)
    uow.session.add(
        AwardRow(
            competition_id=row.id,
            bid_id=award.bid_id,
            provider_id=award.provider_id,
            round=award.round,
            approved_by=actor.id,
            approved_at=now,
            contract_value=str(award.contract_value),
            terms=payload.model_dump(mode="json"),
            contract_awaits_standstill=award.contract_awaits_standstill,
            standstill_ends_at=award.standstill_ends_at,
        )
    )
    notice = d.award_notice(award, scheme, c)
    tracked = d.track_award_notice(notice, scheme)
    uow.session.add(notice_row(notice))
    uow.session.add(tracked_notice_row(tracked))
    _emit(uow, payload)
    uow.audit(
        actor,
        "competition.awarded",
        "competition",
        row.id,
        bid_id=award.bid_id,
        provider_id=award.provider_id,
        value=str(award.contract_value),
        standstill=award.standstill_reason,
    )
    after_commit.append(lambda rt: start_notice_clock(rt, tracked))
    if award.standstill_ends_at is not None:
        ends_at = award.standstill_ends_at
        after_commit.append(lambda rt: start_standstill_clock(rt, award.competition_id, ends_at))
    return AwardSignal(outcome="awarded")


def _awarded_payload(a: d.Award) -> procurement_v1.CompetitionAwarded:
    return procurement_v1.CompetitionAwarded(
        competition_id=a.competition_id,
        scheme_id=a.scheme_id,
        round=a.round,
        kind=a.kind.value,
        category_code=a.category_code,
        lot_code=a.lot_code,
        bid_id=a.bid_id,
        provider_id=a.provider_id,
        places=a.places,
        need_ref=a.need_ref,
        fee_basis=a.fee_basis.value,
        core_fee=a.core_fee,
        weekly_core_fee=a.weekly_core_fee,
        weeks_per_year=a.weeks_per_year,
        additional_support=[
            procurement_v1.SupportItemInfo(
                description=i.description, amount=i.amount, basis=i.basis.value
            )
            for i in a.additional_support
        ],
        start_date=a.start_date,
        end_date=a.end_date,
        annual_value=_money(a.annual_value),
        contract_value=_money(a.contract_value),
        price_score=a.price_score,
        quality_score=a.quality_score,
        total_score=a.total_score,
        approved_by=a.approved_by,
        approved_at=a.approved_at,
        standstill_ends_at=a.standstill_ends_at,
        notice_due_on=a.notice_due_on,
        contract_awaits_standstill=a.contract_awaits_standstill,
    )


def _money(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"))


async def _no_suitable_bid(
    uow: UnitOfWork,
    row: CompetitionRow,
    c: d.Competition,
    scheme: d.Scheme,
    body: AwardIn,
    actor: Actor,
    now: datetime,
) -> AwardSignal:
    c, outcome = d.declare_no_suitable_bid(
        c, scheme, reason=body.reason, declared_by=actor.id, now=now
    )
    _emit(
        uow,
        procurement_v1.CompetitionNoSuitableBid(
            competition_id=row.id,
            scheme_id=row.scheme_id,
            round=outcome.round,
            lot_code=outcome.lot_code,
            reason=outcome.reason,
            next_action=outcome.next_action.value,
            next_lot_code=outcome.next_lot_code,
            declared_by=actor.id,
            declared_at=now,
        ),
    )
    row.outcomes = [
        *row.outcomes,
        {
            "round": outcome.round,
            "lot_code": outcome.lot_code,
            "reason": outcome.reason,
            "next_action": outcome.next_action.value,
            "declared_by": actor.id,
            "declared_at": now.isoformat(),
        },
    ]
    uow.audit(actor, "competition.no_suitable_bid", "competition", row.id, reason=body.reason)
    if outcome.next_action is d.NextAction.ESCALATE:
        apply_competition(row, c)
        uow.session.add(row)
        return AwardSignal(outcome="escalated")
    return await _reopen(uow, row, c, scheme, body, now)


async def _reopen(
    uow: UnitOfWork,
    row: CompetitionRow,
    c: d.Competition,
    scheme: d.Scheme,
    body: AwardIn,
    now: datetime,
) -> AwardSignal:
    deadline = body.deadline_at or now + timedelta(
        days=d.tender_floor_days(scheme, c.urgent_reason)
    )
    memberships = await load_memberships(uow, scheme.scheme_id)
    providers, documents = await load_providers(uow, [m.provider_id for m in memberships])
    before = len(c.invitations)
    c = d.reopen_next_tier(
        c,
        scheme,
        reason=body.reason,
        deadline_at=deadline,
        memberships=memberships,
        providers=providers,
        documents=documents,
        now=now,
        urgent_reason=c.urgent_reason,
    )
    apply_competition(row, c)
    uow.session.add(row)
    new = c.invitations[before:]
    if c.status is d.CompetitionStatus.NO_ELIGIBLE_MEMBERS:
        emit_no_eligible(uow, c, now)
        return AwardSignal(outcome="escalated")
    _emit(
        uow,
        procurement_v1.CompetitionReopened(
            competition_id=row.id,
            scheme_id=row.scheme_id,
            round=c.round,
            lot_code=c.current_lot,
            reason=body.reason,
            deadline_at=deadline,
            invited_count=len(new),
            reopened_at=now,
        ),
    )
    emit_invitations(uow, c, new)
    return AwardSignal(outcome="reopened", deadline_at=deadline)
