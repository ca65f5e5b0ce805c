"""Evidence: what alert rules watch, one record type per kind, and the facts a
condition can read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from functools import cache
from types import NoneType, UnionType
from typing import Annotated, Any, ClassVar, Literal, Self, Union, get_args, get_origin

from pydantic import Field, computed_field, field_validator, model_validator

from services.monitoring.domain._records import (
    FINDINGS_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    _check_free_text,
    _Id,
    _Record,
)
from shared.contracts.inspections import (
    FAILING_GRADES,
    InspectionFramework,
    is_failing,
    read_inspection,
    weakest_report_card_grade,
)
from shared.contracts.providers_v1 import InspectionSummary, ReportCardGrade
from shared.contracts.quality_v1 import (
    TERM_PATTERN,
    AlertTarget,
    IncidentCategory,
    IncidentSeverity,
    OutcomeProgress,
)
from shared.errors import DomainError


class EvidenceKind(StrEnum):
    """What a rule can watch; each kind is one `Evidence` subclass."""

    OFSTED_INSPECTION = "ofsted_inspection"
    PROVIDER_STATUS_CHANGED = "provider_status_changed"
    DOCUMENT_EXPIRY = "document_expiry"
    REVIEW_OUTCOME = "review_outcome"
    REVIEW_OVERDUE = "review_overdue"
    UPLIFT_REQUESTED = "uplift_requested"
    PLACEMENT_ENDED = "placement_ended"
    APPLICATION_OVERDUE = "application_overdue"
    COMPETITION_WITHOUT_SUITABLE_BID = "competition_without_suitable_bid"
    MONITORING_VISIT = "monitoring_visit"
    KPI_RETURN = "kpi_return"
    KPI_RETURN_MISSING = "kpi_return_missing"
    INCIDENT = "incident"
    REVIEW_SCHEDULED = "review_scheduled"
    SELF_DECLARATION_OVERDUE = "self_declaration_overdue"
    NOTICE_OVERDUE = "notice_overdue"
    CALL_OFF_DEADLINE_AT_RISK = "call_off_deadline_at_risk"


class FactType(StrEnum):
    """Type of a field as the condition language sees it (dates are ISO text)."""

    NUMBER = "number"
    TEXT = "text"
    BOOL = "bool"


Fact = bool | int | float | str | None


def _fact_value(value: Any) -> Fact:
    if isinstance(value, Enum):
        return _fact_value(value.value)
    if isinstance(value, date):  # also datetime; ISO text sorts chronologically
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value  # type: ignore[no-any-return]


def _fact_type(annotation: Any) -> FactType | None:
    """Map a field annotation to a FactType; None for non-scalar fields (not facts)."""
    if get_origin(annotation) in (Union, UnionType):
        options = [arg for arg in get_args(annotation) if arg is not NoneType]
        if len(options) != 1:
            return None
        annotation = options[0]
    if get_origin(annotation) is Literal:
        annotation = type(get_args(annotation)[0])
    if not isinstance(annotation, type):
        return None
    if issubclass(annotation, bool):
        return FactType.BOOL
    if issubclass(annotation, int | float | Decimal):
        return FactType.NUMBER
    if issubclass(annotation, str | date):
        return FactType.TEXT
    return None


class Evidence(_Record):
    """Something observed about a provider or placement that alert rules can watch.

    `evidence_id` is the id of the event or record it came from; alerts keep it so an
    officer can trace why they were raised. Scalar fields (and computed fields) are
    the *facts* a rule's condition can name.
    """

    kind: str
    evidence_id: _Id
    provider_id: str | None = None

    TARGETS: ClassVar[frozenset[AlertTarget]] = frozenset()

    def target_id(self, target: AlertTarget) -> str | None:
        """Id of the provider or placement this evidence is about, if it has one."""
        value = getattr(self, f"{target.value}_id", None)
        return value if isinstance(value, str) else None

    def facts(self) -> dict[str, Fact]:
        """Field values a condition can read: numbers, text (dates as ISO), booleans."""
        return {name: _fact_value(getattr(self, name)) for name in _fact_types_of(type(self))}

    @classmethod
    def fact_types(cls) -> dict[str, FactType]:
        """Names and types of the facts, used to check a rule when it is saved."""
        return dict(_fact_types_of(cls))


@cache  # a model's fields never change at run time; facts() runs for every event
def _fact_types_of(model: type[Evidence]) -> dict[str, FactType]:
    found: dict[str, FactType] = {}
    for name, info in model.model_fields.items():
        if (kind := _fact_type(info.annotation)) is not None:
            found[name] = kind
    for name, computed in model.model_computed_fields.items():
        if (kind := _fact_type(computed.return_type)) is not None:
            found[name] = kind
    return found


class Judgement(StrEnum):
    """Every Ofsted grade of every framework, best first within each framework."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    EXCEPTIONAL = "exceptional"
    STRONG_STANDARD = "strong_standard"
    EXPECTED_STANDARD = "expected_standard"
    NEEDS_ATTENTION = "needs_attention"
    URGENT_IMPROVEMENT = "urgent_improvement"
    MET = "met"
    NOT_MET = "not_met"


FRAMEWORK_JUDGEMENTS: dict[InspectionFramework, tuple[Judgement, ...]] = {
    InspectionFramework.FOUR_POINT: (
        Judgement.OUTSTANDING,
        Judgement.GOOD,
        Judgement.REQUIRES_IMPROVEMENT,
        Judgement.INADEQUATE,
    ),
    InspectionFramework.REPORT_CARD: (
        Judgement.EXCEPTIONAL,
        Judgement.STRONG_STANDARD,
        Judgement.EXPECTED_STANDARD,
        Judgement.NEEDS_ATTENTION,
        Judgement.URGENT_IMPROVEMENT,
    ),
    InspectionFramework.INDEPENDENT_SCHOOL_STANDARDS: (Judgement.MET, Judgement.NOT_MET),
}

# The grade in each framework that means "failing" (shared.contracts.inspections).
FAILING_JUDGEMENTS = frozenset(Judgement(grade) for grade in FAILING_GRADES)


def lowest_report_card_grade(area_grades: Mapping[str, Judgement]) -> Judgement:
    """Headline of a report card: its lowest area grade (report cards have no overall)."""
    if not area_grades:
        raise DomainError("area_grades", "a report card needs at least one area grade")
    try:
        grades = [ReportCardGrade(grade) for grade in area_grades.values()]
    except ValueError:
        wrong = next(g for g in area_grades.values() if g not in set(ReportCardGrade))
        raise DomainError("area_grades", f"{wrong} is not a report card grade") from None
    return Judgement(weakest_report_card_grade(grades))


class OfstedInspection(Evidence):
    """An Ofsted inspection outcome for a provider, in any of the three frameworks.

    `judgement` is the headline grade in its own `framework` (for report cards the
    lowest area grade, so one rule `judgement in (...)` covers every framework); None
    when the inspection graded nothing but safeguarding. `safeguarding_met` and
    `standards_met` (Independent School Standards) are read whatever the headline, and
    `equivalent_judgement` is the register's four-point reading. Build it from an
    inspection with `inspection_evidence`, the shared reading (never by hand).
    """

    kind: Literal["ofsted_inspection"] = "ofsted_inspection"
    TARGETS = frozenset({AlertTarget.PROVIDER})

    provider_id: _Id
    inspected_on: date
    published_on: date | None = None
    framework: InspectionFramework | None = None
    judgement: Judgement | None = None
    area_grades: dict[str, Judgement] = Field(default_factory=dict)
    safeguarding_met: bool | None = None
    standards_met: bool | None = None
    equivalent_judgement: Judgement | None = None

    @model_validator(mode="after")
    def _judgement_fits_framework(self) -> Self:
        if (self.framework is None) != (self.judgement is None):
            raise DomainError("judgement", "a judgement and its framework come together")
        if self.judgement is None and self.safeguarding_met is None:
            raise DomainError("judgement", "an inspection must record a judgement or safeguarding")
        if (
            self.framework is not None
            and self.judgement not in FRAMEWORK_JUDGEMENTS[self.framework]
        ):
            raise DomainError("judgement", f"{self.judgement} is not a {self.framework} grade")
        if self.framework is InspectionFramework.INDEPENDENT_SCHOOL_STANDARDS and (
            self.standards_met is not None
            and self.standards_met != (self.judgement is Judgement.MET)
        ):
            raise DomainError("standards_met", "must agree with the standards judgement")
        if self.area_grades:
            if self.framework is not InspectionFramework.REPORT_CARD:
                raise DomainError("area_grades", "only report cards have area grades")
            if lowest_report_card_grade(self.area_grades) is not self.judgement:
                raise DomainError("judgement", "must be the lowest of the area grades")
        if self.published_on is not None and self.published_on < self.inspected_on:
            raise DomainError("published_on", "must not be before inspected_on")
        return self

    @property
    def failing(self) -> bool:
        """Worst grade of its framework, or safeguarding not met (the shared rule)."""
        return is_failing(self.judgement, self.safeguarding_met)


def inspection_evidence(
    evidence_id: str, provider_id: str, summary: InspectionSummary
) -> OfstedInspection | None:
    """The register's inspection as evidence, read by the shared `read_inspection` (so
    monitoring and the register agree); None when it records nothing at all."""
    reading = read_inspection(summary)
    if not reading.records_anything:
        return None
    equivalent = reading.equivalent
    return OfstedInspection(
        evidence_id=evidence_id,
        provider_id=provider_id,
        inspected_on=summary.inspected_on,
        framework=reading.framework,
        judgement=Judgement(reading.grade) if reading.grade is not None else None,
        area_grades={area.value: Judgement(grade) for area, grade in summary.report_card.items()},
        safeguarding_met=reading.safeguarding_met,
        standards_met=reading.standards_met,
        equivalent_judgement=Judgement(equivalent) if equivalent is not None else None,
    )


class ProviderStatusChanged(Evidence):
    """The provider register changed a provider's status (e.g. active -> suspended)."""

    kind: Literal["provider_status_changed"] = "provider_status_changed"
    TARGETS = frozenset({AlertTarget.PROVIDER})

    provider_id: _Id
    previous_status: str = Field(min_length=1, max_length=50)
    new_status: str = Field(min_length=1, max_length=50)
    changed_on: date


class DocumentExpiry(Evidence):
    """A provider's compliance document (insurance, policy, registration) expiring."""

    kind: Literal["document_expiry"] = "document_expiry"
    TARGETS = frozenset({AlertTarget.PROVIDER})

    provider_id: _Id
    document_type: str = Field(min_length=1, max_length=100)
    expires_on: date
    as_of: date

    @computed_field  # type: ignore[prop-decorator]
    @property
    def days_to_expiry(self) -> int:
        """Negative once expired; 0 on the last valid day."""
        return (self.expires_on - self.as_of).days

    @computed_field  # type: ignore[prop-decorator]
    @property
    def expired(self) -> bool:
        return self.as_of > self.expires_on


class ReviewOutcomeKind(StrEnum):
    """Annual review outcome; same values as placements.v1 ReviewOutcome."""

    CONTINUE = "continue"
    VARY = "vary"
    END = "end"


class ReviewOutcome(Evidence):
    """The outcome of a placement's annual review."""

    kind: Literal["review_outcome"] = "review_outcome"
    TARGETS = frozenset({AlertTarget.PROVIDER, AlertTarget.PLACEMENT})

    provider_id: _Id
    placement_id: _Id
    reviewed_on: date
    outcome: ReviewOutcomeKind


class _PastDue(Evidence):
    """Evidence of something not done by `due_on`, seen on `as_of`."""

    due_on: date
    as_of: date

    @computed_field  # type: ignore[prop-decorator]
    @property
    def days_overdue(self) -> int:
        return (self.as_of - self.due_on).days


class ReviewOverdue(_PastDue):
    """A placement's annual review is past its due date (as of a given day)."""

    kind: Literal["review_overdue"] = "review_overdue"
    TARGETS = frozenset({AlertTarget.PROVIDER, AlertTarget.PLACEMENT})

    provider_id: _Id
    placement_id: _Id


class UpliftRequested(Evidence):
    """A fee uplift request measured against the council's cap ("uplift above cap").

    `excess_pct` is how many percentage points the request exceeds the cap by.
    """

    kind: Literal["uplift_requested"] = "uplift_requested"
    TARGETS = frozenset({AlertTarget.PROVIDER, AlertTarget.PLACEMENT})

    provider_id: _Id
    placement_id: _Id
    requested_on: date
    requested_pct: float = Field(ge=0, le=100, allow_inf_nan=False)
    cap_pct: float = Field(ge=0, le=100, allow_inf_nan=False)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def excess_pct(self) -> float:
        return round(self.requested_pct - self.cap_pct, 4)


class PlacementEnded(Evidence):
    """A placement ended, as planned or terminated early."""

    kind: Literal["placement_ended"] = "placement_ended"
    TARGETS = frozenset({AlertTarget.PROVIDER, AlertTarget.PLACEMENT})

    provider_id: _Id
    placement_id: _Id
    ended_on: date
    terminated: bool  # ended before its planned end date
    reason: str = Field(default="", max_length=200)

    @field_validator("reason")
    @classmethod
    def _reason_is_safe(cls, value: str) -> str:
        return _check_free_text(value, 200)


class ApplicationOverdue(_PastDue):
    """A provider's DPS application was not decided within its deadline."""

    kind: Literal["application_overdue"] = "application_overdue"
    TARGETS = frozenset({AlertTarget.PROVIDER})

    provider_id: _Id  # the applicant
    application_id: _Id


class CompetitionWithoutSuitableBid(Evidence):
    """A call-off competition closed with no suitable bid.

    Its alert target is the placement being sought (`placement_id`, the id the
    placements service gave the need); a block-contract competition has none, so
    placement-targeted rules skip it.
    """

    kind: Literal["competition_without_suitable_bid"] = "competition_without_suitable_bid"
    TARGETS = frozenset({AlertTarget.PLACEMENT})

    competition_id: _Id
    category_id: str | None = None
    placement_id: str | None = None
    closed_on: date
    bids_received: int = Field(ge=0)
    round: int = Field(default=1, ge=1)
    lot_code: str | None = None
    # What procurement does next: "reopen_lower_tier" (a lower lot is consulted, the
    # search goes on) or "escalate" (no tier left: the need is unmet on the DPS).
    next_action: Literal["reopen_lower_tier", "escalate"] = "escalate"


class ReviewScheduled(Evidence):
    """A placement's next annual review was set; `beyond_statutory_limit` when the date the
    council gave is later than 12 months after the review last held (CFA 2014 s.44)."""

    kind: Literal["review_scheduled"] = "review_scheduled"
    TARGETS = frozenset({AlertTarget.PLACEMENT})

    provider_id: _Id
    placement_id: _Id
    due_on: date
    statutory_latest: date | None = None
    beyond_statutory_limit: bool = False


class SelfDeclarationOverdue(Evidence):
    """A member did not renew its self-declaration within 5 working days (reg 34(25))."""

    kind: Literal["self_declaration_overdue"] = "self_declaration_overdue"
    TARGETS = frozenset({AlertTarget.PROVIDER})

    provider_id: _Id
    request_id: _Id
    scheme_id: str
    due_on: date


class NoticeOverdue(Evidence):
    """A notice the regime requires was not published when due: PCR 2015 (award, DPS
    period change) or the Procurement Act 2023 (tender, dynamic market, transparency,
    contract award/details/change/termination, procurement termination). ``notice_kind``
    says which; ``rule`` is the section and regulation that set ``due_on``."""

    kind: Literal["notice_overdue"] = "notice_overdue"
    TARGETS = frozenset({AlertTarget.SCHEME})

    scheme_id: _Id
    notice_id: _Id
    notice_kind: str
    competition_id: str | None = None
    due_on: date
    rule: str


class CallOffDeadlineAtRisk(Evidence):
    """A phase-transfer call-off cannot be decided by the day the school must be named
    (SEND Regulations 2014 reg 18). `placement_id` is the need the call-off is for."""

    kind: Literal["call_off_deadline_at_risk"] = "call_off_deadline_at_risk"
    TARGETS = frozenset({AlertTarget.PLACEMENT})

    placement_id: str | None = None
    competition_id: _Id
    statutory_deadline: date
    expected_completion: date

    @computed_field  # type: ignore[prop-decorator]
    @property
    def days_late(self) -> int:
        return (self.expected_completion - self.statutory_deadline).days


class MonitoringVisit(Evidence):
    """A monitoring officer's visit: rating 1 (outstanding) to 4 (inadequate)."""

    kind: Literal["monitoring_visit"] = "monitoring_visit"
    TARGETS = frozenset({AlertTarget.PROVIDER})

    provider_id: _Id
    officer_id: _Id
    visited_on: date
    rating: int = Field(ge=1, le=4)
    findings: str = Field(default="")

    @field_validator("findings")
    @classmethod
    def _findings_are_safe(cls, value: str) -> str:
        return _check_free_text(value, FINDINGS_MAX_LENGTH)


class KpiReturn(Evidence):
    """A provider's termly KPI return for one placement.

    `consecutive_not_met` is derived from the placement's return history by
    `with_outcome_streak`; None means "not computed", and rules reading it never fire
    on None.
    """

    kind: Literal["kpi_return"] = "kpi_return"
    TARGETS = frozenset({AlertTarget.PROVIDER, AlertTarget.PLACEMENT})

    provider_id: _Id
    placement_id: _Id
    term: str = Field(pattern=TERM_PATTERN)
    attendance_pct: float = Field(ge=0, le=100, allow_inf_nan=False)
    exclusions: int = Field(ge=0)
    incidents: int = Field(ge=0)
    outcomes_progress: OutcomeProgress
    submitted_on: date
    consecutive_not_met: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _streak_matches_outcome(self) -> Self:
        streak = self.consecutive_not_met
        if streak is None:
            return self
        if self.outcomes_progress is OutcomeProgress.NOT_MET and streak < 1:
            raise DomainError("consecutive_not_met", "must be at least 1 for a not_met return")
        if self.outcomes_progress is not OutcomeProgress.NOT_MET and streak != 0:
            raise DomainError("consecutive_not_met", "must be 0 unless outcomes are not_met")
        return self


class KpiReturnMissing(Evidence):
    """No KPI return arrived for a placement for a term (see `missing_kpi_returns`)."""

    kind: Literal["kpi_return_missing"] = "kpi_return_missing"
    TARGETS = frozenset({AlertTarget.PROVIDER, AlertTarget.PLACEMENT})

    provider_id: _Id
    placement_id: _Id
    term: str = Field(pattern=TERM_PATTERN)


class IncidentReport(Evidence):
    """A safeguarding incident or complaint about a provider (never names a child)."""

    kind: Literal["incident"] = "incident"
    TARGETS = frozenset({AlertTarget.PROVIDER, AlertTarget.PLACEMENT})

    provider_id: _Id
    placement_id: str | None = None
    category: IncidentCategory
    severity: IncidentSeverity
    occurred_on: date
    summary: str = Field(min_length=1)

    @field_validator("summary")
    @classmethod
    def _summary_is_safe(cls, value: str) -> str:
        return _check_free_text(value, SUMMARY_MAX_LENGTH)


AnyEvidence = Annotated[
    OfstedInspection
    | ProviderStatusChanged
    | DocumentExpiry
    | ReviewOutcome
    | ReviewOverdue
    | UpliftRequested
    | PlacementEnded
    | ApplicationOverdue
    | CompetitionWithoutSuitableBid
    | MonitoringVisit
    | KpiReturn
    | KpiReturnMissing
    | IncidentReport
    | ReviewScheduled
    | SelfDeclarationOverdue
    | NoticeOverdue
    | CallOffDeadlineAtRisk,
    Field(discriminator="kind"),
]
"""Discriminated union of every evidence record, e.g. for `TypeAdapter(AnyEvidence)`."""

EVIDENCE_TYPES: dict[EvidenceKind, type[Evidence]] = {
    EvidenceKind(model.model_fields["kind"].default): model
    for model in get_args(get_args(AnyEvidence)[0])
}
