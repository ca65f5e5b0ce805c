"""Requests to participate: submission, the evaluation clock, decisions, and drafts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from services.procurement.domain._rules import (
    Rule,
    _require,
    _require_text,
    _today,
    _validate_unique,
)
from services.procurement.domain.frameworks import require_may_join
from services.procurement.domain.memberships import Membership, MembershipStatus, document_problems
from services.procurement.domain.schemes import (
    QuestionKind,
    SchemeStatus,
    _require_accepts_applications,
)
from shared.fiscal import round_money
from shared.working_days import (
    LONDON,
    add_working_days,
    end_of_day,
    london_date,
)

if TYPE_CHECKING:
    from services.procurement.domain.memberships import ComplianceDocument, ProviderSnapshot
    from services.procurement.domain.schemes import Category, Lot, Scheme, SelectionQuestion


# ----------------------------------------------------------------- applications

# The evaluator is reminded on the working day this many days before the last one:
# day 7 of 10 (day 12 of 15 once extended), leaving three full working days.
REMINDER_WORKING_DAYS_BEFORE_DEADLINE = 3


class ApplicationOutcome(StrEnum):
    """Result of evaluating a request to participate."""

    ADMITTED = "admitted"
    PARTIALLY_ADMITTED = "partially_admitted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class QuestionAssessment:
    """An evaluator's judgement of one answer: ``passed`` (pass/fail) or ``score``."""

    passed: bool | None = None
    score: Decimal | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """Pass/fail of one criterion; ``criterion`` is e.g. ``question:Q1``,
    ``document:insurance``, ``register``, ``pass_mark``, ``lot``, ``scheme``."""

    criterion: str
    passed: bool
    reason: str = ""
    score: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CategoryRefusal:
    """A requested category not admitted, and why."""

    category_code: str
    reason: str


@dataclass(frozen=True, slots=True)
class ApplicationDecision:
    """The recorded decision on a request to participate."""

    outcome: ApplicationOutcome
    criteria: tuple[CriterionResult, ...]
    admitted_categories: tuple[str, ...]
    refused_categories: tuple[CategoryRefusal, ...]
    quality_score: Decimal | None
    lot_code: str | None
    decided_by: str
    decided_at: datetime
    decided_late: bool

    @property
    def failed_criteria(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if not c.passed)


@dataclass(frozen=True, slots=True)
class Application:
    """A provider's request to participate in (some categories of) a scheme."""

    application_id: str
    scheme_id: str
    provider_id: str
    requested_categories: tuple[str, ...]
    answers: Mapping[str, str]
    submitted_at: datetime
    evaluation_working_days: int  # 10, or 15 once extended
    extension_reason: str | None = None
    extended_by: str | None = None
    extended_at: datetime | None = None
    decision: ApplicationDecision | None = None

    @property
    def received_on(self) -> date:
        """London date of receipt; it does not count towards the working days."""
        return london_date(self.submitted_at)

    @property
    def due_on(self) -> date:
        """Last working day on which the decision is on time."""
        return add_working_days(self.received_on, self.evaluation_working_days)

    @property
    def due_at(self) -> datetime:
        """Exclusive deadline instant (end of ``due_on``, Europe/London)."""
        return end_of_day(self.due_on)

    @property
    def reminder_on(self) -> date:
        """Working day on which the evaluator is reminded (day 7 of 10; day 12 of 15)."""
        days = self.evaluation_working_days - REMINDER_WORKING_DAYS_BEFORE_DEADLINE
        return add_working_days(self.received_on, days)

    @property
    def reminder_at(self) -> datetime:
        """Start (00:00 London) of ``reminder_on``."""
        return datetime.combine(self.reminder_on, time(0), tzinfo=LONDON)

    @property
    def extended(self) -> bool:
        return self.extension_reason is not None

    @property
    def decided(self) -> bool:
        return self.decision is not None


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The decided application and the memberships it creates (empty if rejected)."""

    application: Application
    memberships: tuple[Membership, ...]


def submit_application(
    scheme: Scheme,
    *,
    application_id: str,
    provider_id: str,
    requested_categories: Sequence[str],
    answers: Mapping[str, str],
    existing_memberships: Iterable[Membership] = (),
    now: datetime,
) -> Application:
    """Receive a request to participate; its 10-working-day clock starts the next working day.

    A member may apply for further categories; it may not re-apply for a category it
    holds (active or suspended). An open framework takes applications only within the
    window before a framework's award (Procurement Act 2023 s.49(1); frameworks.py);
    its members carry over to the next framework without applying again.
    """
    _require_accepts_applications(scheme, _today(now))
    require_may_join(scheme, _today(now))
    _require_text(application_id, "application_id")
    _require_text(provider_id, "provider_id")
    requested = tuple(requested_categories)
    _require(bool(requested), "requested_categories", Rule.REQUIRED, "request a category")
    _validate_unique(requested, "requested_categories")
    for code in requested:
        scheme.category(code)
    held = {
        m.category_code
        for m in existing_memberships
        if m.provider_id == provider_id
        and m.scheme_id == scheme.scheme_id
        and m.status is not MembershipStatus.ENDED
    }
    for code in requested:
        _require(
            code not in held, "requested_categories", Rule.ALREADY_MEMBER, f"already in {code}"
        )
    _validate_answers(scheme, answers)
    days = scheme.regime_rules.application_evaluation_working_days
    return Application(
        application_id=application_id,
        scheme_id=scheme.scheme_id,
        provider_id=provider_id,
        requested_categories=requested,
        answers=dict(answers),
        submitted_at=now,
        evaluation_working_days=days,
    )


# Register statuses from which a provider may submit a request to participate. A
# provider registered but not yet active (e.g. documents still missing) may apply: its
# documents and register status are selection criteria, judged when the application is
# decided within the 10-working-day clock (PCR 2015 reg 34(2)(b), (15)-(16)).
MAY_APPLY_REGISTER_STATUSES = frozenset({"registered", "active"})


def require_may_apply(register_status: str | None) -> None:
    """Refuse a request to participate only from a provider unknown to, suspended on or
    removed from the register; missing documents never stop an application."""
    _require(
        register_status is not None,
        "provider_id",
        Rule.UNKNOWN,
        "not (yet) in the register",
    )
    _require(
        register_status in MAY_APPLY_REGISTER_STATUSES,
        "provider_id",
        Rule.PROVIDER_NOT_ACTIVE,
        f"the provider is {register_status} on the register",
    )


def _validate_answers(scheme: Scheme, answers: Mapping[str, str]) -> None:
    known = {q.question_id for q in scheme.selection_questions}
    for qid in answers:
        _require(qid in known, f"answers.{qid}", Rule.UNKNOWN, "no such selection question")
    for qid in sorted(known):
        _require_text(answers.get(qid), f"answers.{qid}")


def extend_evaluation(
    application: Application, scheme: Scheme, *, reason: str, by: str, now: datetime
) -> Application:
    """Extend the evaluation to 15 working days, once, with a reason, before the deadline.

    PCR 2015 reg 34 allows 15 working days "in individual cases where justified"; a
    second extension, or one asked for after the 10 days have run out, is refused.
    """
    _require(not application.decided, "application_id", Rule.ALREADY_DECIDED, "decided")
    _require(
        not application.extended,
        "application_id",
        Rule.EXTENSION_ALREADY_USED,
        "the evaluation period was already extended",
    )
    reason = _require_text(reason, "reason")
    by = _require_text(by, "by")
    _require(
        now < application.due_at,
        "application_id",
        Rule.EXTENSION_AFTER_DEADLINE,
        f"the deadline {application.due_on.isoformat()} has passed",
    )
    return replace(
        application,
        evaluation_working_days=scheme.regime_rules.application_evaluation_max_working_days,
        extension_reason=reason,
        extended_by=by,
        extended_at=now,
    )


def is_overdue(application: Application, now: datetime) -> bool:
    """Undecided after the end of its last evaluation day (escalate)."""
    return not application.decided and now >= application.due_at


def reminder_due(application: Application, now: datetime) -> bool:
    """Undecided and the reminder day has begun."""
    return not application.decided and now >= application.reminder_at


def application_quality_score(
    questions: Sequence[SelectionQuestion], assessments: Mapping[str, QuestionAssessment]
) -> Decimal | None:
    """Weighted score out of 100 over scored questions; None if the scheme has none."""
    scored = [q for q in questions if q.kind is QuestionKind.SCORED]
    if not scored:
        return None
    total_weight = sum(q.weight for q in scored)
    earned = sum(
        (_assessed_score(q, assessments) / q.max_score * q.weight for q in scored), Decimal(0)
    )
    return round_money(earned / total_weight * 100)


def _assessed_score(q: SelectionQuestion, assessments: Mapping[str, QuestionAssessment]) -> Decimal:
    score = assessments[q.question_id].score
    assert score is not None  # checked by _validate_assessments
    return Decimal(score)


def _validate_assessments(
    questions: Sequence[SelectionQuestion], assessments: Mapping[str, QuestionAssessment]
) -> None:
    known = {q.question_id for q in questions}
    for qid in assessments:
        _require(qid in known, f"assessments.{qid}", Rule.UNKNOWN, "no such selection question")
    for q in questions:
        f = f"assessments.{q.question_id}"
        a = assessments.get(q.question_id)
        _require(a is not None, f, Rule.ASSESSMENT_MISSING, "not assessed")
        assert a is not None
        if q.kind is QuestionKind.PASS_FAIL:
            _require(a.passed is not None, f, Rule.ASSESSMENT_MISSING, "pass or fail needed")
        else:
            _require(a.score is not None, f, Rule.ASSESSMENT_MISSING, "score needed")
            assert a.score is not None
            _require(0 <= a.score <= q.max_score, f, Rule.OUT_OF_RANGE, f"0..{q.max_score}")


def _question_results(
    questions: Sequence[SelectionQuestion], assessments: Mapping[str, QuestionAssessment]
) -> list[CriterionResult]:
    results = []
    for q in questions:
        a = assessments[q.question_id]
        name = f"question:{q.question_id}"
        if q.kind is QuestionKind.PASS_FAIL:
            results.append(CriterionResult(name, bool(a.passed), "" if a.passed else a.note))
            continue
        score = Decimal(a.score or 0)
        below = q.min_score is not None and score < q.min_score
        reason = f"scored {score}, below the minimum {q.min_score}" if below else ""
        results.append(CriterionResult(name, not below, reason, score))
    return results


def lot_for_score(
    scheme: Scheme,
    quality_score: Decimal | None,
    question_scores: Mapping[str, Decimal] | None = None,
) -> Lot | None:
    """Highest lot whose threshold the score meets and whose per-question minimums the
    scores meet (None if untiered or below all). A provider failing lot 2 may thus be
    admitted to lot 1 (Kent, Find a Tender 2022/S 000-001313)."""
    if quality_score is None:
        return None
    for lot in scheme.lots_by_tier:
        shortfalls = lot.question_shortfalls(scheme.selection_questions, question_scores or {})
        if quality_score >= lot.min_quality_score and not shortfalls:
            return lot
    return None


def _lot_miss(scheme: Scheme, quality_score: Decimal, scores: Mapping[str, Decimal]) -> str:
    """Why no lot admits the provider: each lot's threshold or per-question minimum missed."""
    misses = []
    for lot in scheme.lots_by_tier:
        why = lot.question_shortfalls(scheme.selection_questions, scores)
        if quality_score < lot.min_quality_score:
            why.insert(0, f"quality score {quality_score} < {lot.min_quality_score}")
        misses.append(f"{lot.code}: {', '.join(why)}")
    return "no lot's criteria met (" + "; ".join(misses) + ")"


def _gate_results(
    scheme: Scheme,
    provider: ProviderSnapshot,
    documents: Iterable[ComplianceDocument],
    today: date,
) -> list[CriterionResult]:
    live = scheme.status is not SchemeStatus.CLOSED and today <= scheme.last_usable_day
    results = [
        CriterionResult(
            "scheme", live, "" if live else "the scheme is closed, its term or long-stop passed"
        ),
        CriterionResult(
            "register",
            provider.active,
            "" if provider.active else "provider is not active in the register",
        ),
    ]
    problems = {p.kind: p for p in document_problems(scheme.required_documents, documents, today)}
    for kind in sorted(scheme.required_documents):
        problem = problems.get(kind)
        results.append(
            CriterionResult(f"document:{kind}", problem is None, problem.message if problem else "")
        )
    return results


def _score_results(
    scheme: Scheme, quality_score: Decimal | None, scores: Mapping[str, Decimal]
) -> list[CriterionResult]:
    if quality_score is None:
        return []
    passed = quality_score >= scheme.pass_mark
    results = [
        CriterionResult(
            "pass_mark",
            passed,
            "" if passed else f"quality score {quality_score} below pass mark {scheme.pass_mark}",
            quality_score,
        )
    ]
    if scheme.lots:
        in_lot = lot_for_score(scheme, quality_score, scores) is not None
        reason = "" if in_lot else _lot_miss(scheme, quality_score, scores)
        results.append(CriterionResult("lot", in_lot, reason, quality_score))
    return results


def _scored(assessments: Mapping[str, QuestionAssessment]) -> dict[str, Decimal]:
    return {k: Decimal(a.score) for k, a in assessments.items() if a.score is not None}


def _category_fit(category: Category, provider: ProviderSnapshot) -> str | None:
    """Why the provider cannot serve the category per the register, or None if it can."""
    if not category.need_types & provider.need_types:
        needs = ", ".join(sorted(category.need_types))
        return f"register lists none of the category's need types ({needs})"
    if not category.attendance & provider.attendance:
        modes = ", ".join(sorted(category.attendance))
        return f"register lists none of the category's attendance patterns ({modes})"
    return None


def decide_application(
    application: Application,
    scheme: Scheme,
    *,
    provider: ProviderSnapshot,
    documents: Iterable[ComplianceDocument],
    assessments: Mapping[str, QuestionAssessment],
    decided_by: str,
    now: datetime,
    refused_categories: Mapping[str, str] | None = None,
) -> DecisionResult:
    """Evaluate a request to participate against the selection criteria and decide.

    Every criterion gets a pass/fail with a reason. Any failure rejects the whole
    request: provider not active in the register, a required document missing or
    expired (named), a pass/fail question failed, a score below its minimum, the pass
    mark or the lowest lot's threshold. Otherwise each requested category is admitted
    unless the register says the provider does not serve it, or the decider refuses it
    (``refused_categories``: code -> reason). The lot follows from the quality score.
    Deciding after the deadline is allowed but recorded as ``decided_late``.
    """
    _require(not application.decided, "application_id", Rule.ALREADY_DECIDED, "decided")
    _require(
        provider.provider_id == application.provider_id,
        "provider_id",
        Rule.MISMATCH,
        "provider snapshot is not the applicant",
    )
    decided_by = _require_text(decided_by, "decided_by")
    refusals_asked = dict(refused_categories or {})
    for code, reason in refusals_asked.items():
        _require(
            code in application.requested_categories,
            f"refused_categories.{code}",
            Rule.UNKNOWN,
            "category was not requested",
        )
        _require_text(reason, f"refused_categories.{code}")
    questions = scheme.selection_questions
    _validate_assessments(questions, assessments)
    today = _today(now)
    quality_score = application_quality_score(questions, assessments)
    criteria = (
        _gate_results(scheme, provider, documents, today)
        + _question_results(questions, assessments)
        + _score_results(scheme, quality_score, _scored(assessments))
    )
    lot = lot_for_score(scheme, quality_score, _scored(assessments))
    all_passed = all(c.passed for c in criteria)
    admitted: list[str] = []
    refused: list[CategoryRefusal] = []
    for code in application.requested_categories:
        if not all_passed:
            why: str | None = "selection criteria not met"
        else:
            why = refusals_asked.get(code) or _category_fit(scheme.category(code), provider)
        if why:
            refused.append(CategoryRefusal(code, why))
        else:
            admitted.append(code)
    outcome = _outcome(admitted, application.requested_categories)
    decision = ApplicationDecision(
        outcome=outcome,
        criteria=tuple(criteria),
        admitted_categories=tuple(admitted),
        refused_categories=tuple(refused),
        quality_score=quality_score,
        lot_code=lot.code if lot and admitted else None,
        decided_by=decided_by,
        decided_at=now,
        decided_late=now >= application.due_at,
    )
    memberships = tuple(
        Membership(
            scheme_id=scheme.scheme_id,
            provider_id=application.provider_id,
            category_code=code,
            lot_code=decision.lot_code,
            quality_score=quality_score,
            admitted_on=today,
            application_id=application.application_id,
        )
        for code in admitted
    )
    return DecisionResult(replace(application, decision=decision), memberships)


def _outcome(admitted: Sequence[str], requested: Sequence[str]) -> ApplicationOutcome:
    if not admitted:
        return ApplicationOutcome.REJECTED
    if len(admitted) == len(requested):
        return ApplicationOutcome.ADMITTED
    return ApplicationOutcome.PARTIALLY_ADMITTED


# -------------------------------------------------- application drafts (issue 15)

# A draft is the provider's unfinished form, kept so that it can come back to it. It is
# not a request to participate: it is not evaluated and starts no clock. The 10 working
# days of PCR 2015 reg 34(15) run from receipt of a request to participate, i.e. from
# the submission (submit_application), never from a saved draft.
DRAFT_SOURCE = (
    "PCR 2015 reg 34(15): the evaluation period runs from receipt of a request to "
    "participate; a saved draft is not one, so it is not evaluated and starts no clock"
)
DRAFT_MAX_CATEGORIES = 100
DRAFT_MAX_ANSWERS = 100
DRAFT_ANSWER_MAX = 5000  # the same cap as the portal's answer box
DRAFT_KEY_MAX = 50


@dataclass(frozen=True, slots=True)
class ApplicationDraft:
    """What a provider has typed so far, as given (checked for size and shape only)."""

    scheme_id: str
    provider_id: str
    requested_categories: tuple[str, ...]
    answers: Mapping[str, str]
    saved_at: datetime


def save_draft(
    scheme: Scheme,
    *,
    provider_id: str,
    requested_categories: Sequence[str],
    answers: Mapping[str, str],
    now: datetime,
) -> ApplicationDraft:
    """Keep an unfinished application: sizes are bounded, completeness is not required
    (it is checked on submission). Only a scheme taking applications takes drafts."""
    _require_accepts_applications(scheme, _today(now))
    cats = tuple(dict.fromkeys(requested_categories))
    _require(
        len(cats) <= DRAFT_MAX_CATEGORIES,
        "requested_categories",
        Rule.OUT_OF_RANGE,
        f"at most {DRAFT_MAX_CATEGORIES}",
    )
    for code in cats:
        _require(
            0 < len(code) <= DRAFT_KEY_MAX,
            "requested_categories",
            Rule.OUT_OF_RANGE,
            f"each code 1 to {DRAFT_KEY_MAX} characters",
        )
    _require(
        len(answers) <= DRAFT_MAX_ANSWERS,
        "answers",
        Rule.OUT_OF_RANGE,
        f"at most {DRAFT_MAX_ANSWERS}",
    )
    for qid, text in answers.items():
        _require(
            0 < len(qid) <= DRAFT_KEY_MAX,
            "answers",
            Rule.OUT_OF_RANGE,
            f"each question id 1 to {DRAFT_KEY_MAX} characters",
        )
        _require(
            len(text) <= DRAFT_ANSWER_MAX,
            f"answers.{qid}",
            Rule.OUT_OF_RANGE,
            f"at most {DRAFT_ANSWER_MAX} characters",
        )
    return ApplicationDraft(scheme.scheme_id, provider_id, cats, dict(answers), now)
