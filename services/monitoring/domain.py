"""Monitoring domain: evidence, alert rules, alerts, suspension, scorecards, dashboard.

Pure: no I/O, no database, no clock. Anything that needs the time takes `now` (an
aware datetime) or `as_of` (a date). Records are frozen pydantic models; a state
change returns a new record. Every validation failure is a `DomainError(field, rule)`.

Flow: a handler turns an incoming event into an `Evidence` record, calls
`evaluate_rules(current_rules, evidence)` to get `RuleMatch`es, then `raise_alerts`
to open at most one alert per cause. Officers work alerts with `Alert.assign`,
`acknowledge`, `resolve`; the escalation workflow asks `needs_escalation`.
"""

from __future__ import annotations

import ast
import operator
import re
import string
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum, StrEnum
from functools import cache, lru_cache
from statistics import fmean
from types import NoneType, UnionType
from typing import Annotated, Any, ClassVar, Literal, Self, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)

from shared.api_types import DATE_MAX, DATE_MIN
from shared.contracts.common import NeedType
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
    Severity,
)

__all__ = [
    "DEFAULT_RULES",
    "EVIDENCE_TYPES",
    "FAILING_JUDGEMENTS",
    "FRAMEWORK_JUDGEMENTS",
    "SAFEGUARDING_RULE_IDS",
    "SUSPENSION_GROUNDS",
    "Alert",
    "AlertRule",
    "AlertStatus",
    "AlertTarget",
    "AnyEvidence",
    "ApplicationOverdue",
    "CompetitionWithoutSuitableBid",
    "Condition",
    "Dashboard",
    "DocumentExpiry",
    "DomainError",
    "Evidence",
    "EvidenceKind",
    "FactType",
    "IncidentCategory",
    "IncidentReport",
    "IncidentSeverity",
    "InspectionFramework",
    "Judgement",
    "KpiReturn",
    "KpiReturnMissing",
    "KpiReturnOwed",
    "KpiReturnState",
    "MonitoringVisit",
    "NeedCost",
    "OfstedInspection",
    "OutcomeProgress",
    "PlacementEnded",
    "PlacementRecord",
    "ProviderStatusChanged",
    "ReviewDue",
    "ReviewOutcome",
    "ReviewOutcomeKind",
    "ReviewOverdue",
    "RuleMatch",
    "Scorecard",
    "Severity",
    "SpendLine",
    "SuspensionGround",
    "SuspensionRecommendation",
    "SuspensionStatus",
    "TermKpi",
    "UpliftRequested",
    "VisitRating",
    "YearSpend",
    "YearTotal",
    "build_dashboard",
    "build_scorecard",
    "current_rules",
    "escalation_deadline",
    "evaluate_rules",
    "financial_year_bounds",
    "financial_year_label",
    "financial_year_of",
    "first_term_due_after",
    "inspection_evidence",
    "kpi_return_deadline",
    "kpi_returns_owed",
    "latest_inspection",
    "lowest_report_card_grade",
    "missing_kpi_returns",
    "needs_escalation",
    "next_term",
    "parse_condition",
    "previous_term",
    "raise_alert",
    "raise_alerts",
    "recommend_suspension",
    "recommend_suspension_by_hand",
    "render_cause",
    "revise_rule",
    "term_of",
    "term_sort_key",
    "term_window",
    "with_outcome_streak",
    "year_totals",
]


# --------------------------------------------------------------------------- errors


class DomainError(Exception):
    """A monitoring rule was broken: `field` names what was wrong, `rule` says why.

    Deliberately not a ValueError, so pydantic never swallows it into a ValidationError.
    """

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def _require_aware(field: str, moment: datetime) -> None:
    # Alerts cross services and time zones; a naive time is ambiguous (GMT or BST?).
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError(field, "must be timezone-aware")


class _Record(BaseModel):
    """Frozen, strict-shaped record whose validation failures are DomainErrors."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="wrap")
    @classmethod
    def _as_domain_error(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or cls.__name__
            raise DomainError(field, first["msg"].removeprefix("Value error, ")) from None


_Id = Annotated[str, Field(min_length=1, max_length=200)]


# ----------------------------------------------------------------------- free text

SUMMARY_MAX_LENGTH = 1000
FINDINGS_MAX_LENGTH = 4000
OUTCOME_MAX_LENGTH = 2000

# Children are known only by the council's pseudonymous reference. These patterns catch
# the obvious ways a name or date of birth gets typed into free text ("Name: ...",
# "Child's name = ...", "DOB: ..."). It is a backstop, not a guarantee: officers and
# providers are told to use the child reference.
_IDENTIFYING_TEXT = (
    re.compile(r"\b(?:sur|fore|first|last|given|full|child'?s|pupil'?s)?\s*name\s*[:=]", re.I),
    re.compile(r"\b(?:d\.?o\.?b\.?|date\s+of\s+birth)\s*[:=]", re.I),
)


def _check_free_text(value: str, max_length: int) -> str:
    """Refuse over-long text and text that looks like it names a child."""
    if len(value) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    for pattern in _IDENTIFYING_TEXT:
        if pattern.search(value):
            raise ValueError(
                "looks like it contains a child's name or date of birth; "
                "use the child reference instead"
            )
    return value


# ------------------------------------------------------------------ terms and years

_SEASONS = ("spring", "summer", "autumn")  # order within a calendar year


def term_sort_key(term: str) -> tuple[int, int]:
    """Sort key of a term label such as "2025-autumn" (calendar year, then season)."""
    if not re.fullmatch(TERM_PATTERN, term):
        raise DomainError("term", 'must look like "2025-autumn" (spring, summer or autumn)')
    year, season = term.split("-")
    if not DATE_MIN.year <= int(year) <= DATE_MAX.year:
        # Year 0 has no calendar, and deadlines run past a term's end (shared.api_types).
        raise DomainError("term", f"the year must be {DATE_MIN.year} to {DATE_MAX.year}")
    return int(year), _SEASONS.index(season)


def term_window(term: str) -> tuple[date, date]:
    """Reporting window of a term: spring Jan-Mar, summer Apr-Aug, autumn Sep-Dec.

    The windows tile the calendar year so every day belongs to exactly one term; real
    term dates vary by school and by Easter, which is close enough for "who owes a
    KPI return".
    """
    year, season = term_sort_key(term)
    starts = (date(year, 1, 1), date(year, 4, 1), date(year, 9, 1))[season]
    ends = (date(year, 3, 31), date(year, 8, 31), date(year, 12, 31))[season]
    return starts, ends


def term_of(day: date) -> str:
    """The term whose reporting window (see `term_window`) contains `day`."""
    season = 0 if day.month <= 3 else 1 if day.month <= 8 else 2
    return f"{day.year}-{_SEASONS[season]}"


def next_term(term: str) -> str:
    """The term after `term`: spring -> summer -> autumn -> next year's spring."""
    year, season = term_sort_key(term)
    if season == len(_SEASONS) - 1:
        return f"{year + 1}-{_SEASONS[0]}"
    return f"{year}-{_SEASONS[season + 1]}"


def previous_term(term: str) -> str:
    """The term before `term`: autumn -> summer -> spring -> last year's autumn."""
    year, season = term_sort_key(term)
    if season == 0:
        return f"{year - 1}-{_SEASONS[-1]}"
    return f"{year}-{_SEASONS[season - 1]}"


KPI_RETURN_WORKING_DAYS = 10  # default: a term's return is due 10 working days after it


def kpi_return_deadline(
    term: str,
    working_day_deadline: Callable[[datetime, int], datetime],
    working_days: int = KPI_RETURN_WORKING_DAYS,
) -> datetime:
    """When a term's KPI returns are due: the end (London) of the N-th working day after
    the last day of the term's window, in the `shared.working_days` convention. A
    placement active in the term with no return by then raises "no KPI return".
    """
    if working_days < 1:
        raise DomainError("working_days", "must be at least 1")
    last = term_window(term)[1]
    # Noon UTC is the same London calendar day in winter and summer time.
    return working_day_deadline(datetime.combine(last, time(12), tzinfo=UTC), working_days)


def first_term_due_after(
    now: datetime,
    working_day_deadline: Callable[[datetime, int], datetime],
    working_days: int = KPI_RETURN_WORKING_DAYS,
) -> str:
    """The earliest term whose KPI return deadline is still ahead of `now` (strictly)."""
    _require_aware("now", now)
    term = next_term(term_of(now.date()))
    # Walk back while the previous term's deadline is still in the future.
    while True:
        previous = previous_term(term)
        if kpi_return_deadline(previous, working_day_deadline, working_days) <= now:
            return term
        term = previous


def financial_year_of(day: date) -> int:
    """Financial year label of a day: 2025 means 1 April 2025 to 31 March 2026."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_bounds(financial_year: int) -> tuple[date, date]:
    """First and last day of a financial year (1 April to 31 March)."""
    return date(financial_year, 4, 1), date(financial_year + 1, 3, 31)


def financial_year_label(financial_year: int) -> str:
    """Human label, e.g. 2025 -> "2025/26"."""
    return f"{financial_year}/{(financial_year + 1) % 100:02d}"


# ------------------------------------------------------------------------ evidence


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


class ReviewOverdue(Evidence):
    """A placement's annual review is past its due date (as of a given day)."""

    kind: Literal["review_overdue"] = "review_overdue"
    TARGETS = frozenset({AlertTarget.PROVIDER, AlertTarget.PLACEMENT})

    provider_id: _Id
    placement_id: _Id
    due_on: date
    as_of: date

    @computed_field  # type: ignore[prop-decorator]
    @property
    def days_overdue(self) -> int:
        return (self.as_of - self.due_on).days


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


class ApplicationOverdue(Evidence):
    """A provider's DPS application was not decided within its deadline."""

    kind: Literal["application_overdue"] = "application_overdue"
    TARGETS = frozenset({AlertTarget.PROVIDER})

    provider_id: _Id  # the applicant
    application_id: _Id
    due_on: date
    as_of: date

    @computed_field  # type: ignore[prop-decorator]
    @property
    def days_overdue(self) -> int:
        return (self.as_of - self.due_on).days


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
    """A notice the regime requires (award, DPS period change) was not published when due."""

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


# ------------------------------------------------------------- condition language

MAX_CONDITION_LENGTH = 500
_MAX_CONDITION_NODES = 200

_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda item, group: item in group,
    ast.NotIn: lambda item, group: item not in group,
}
_ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_MEMBERSHIPS = (ast.In, ast.NotIn)

# Friendlier names for the constructs people most often try.
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access is",
    ast.Call: "function calls are",
    ast.Subscript: "indexing is",
    ast.BinOp: "arithmetic is",
    ast.Lambda: "lambda is",
    ast.NamedExpr: "assignment is",
    ast.IfExp: "if-else expressions are",
    ast.List: "lists are",
    ast.Set: "sets are",
    ast.Dict: "a dict is",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.JoinedStr: "f-strings are",
    ast.Starred: "unpacking is",
    ast.Await: "await is",
}


def _condition_error(rule: str) -> DomainError:
    return DomainError("condition", rule)


def _is_signed_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    )


def _check_node(node: ast.AST) -> None:
    """Refuse anything outside the whitelist, outermost construct first."""
    match node:
        case ast.BoolOp(op=ast.And() | ast.Or(), values=values):
            for value in values:
                _check_node(value)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            _check_node(operand)
        case ast.UnaryOp() if _is_signed_number(node):
            pass
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            for op in ops:
                if type(op) not in _COMPARISONS:
                    raise _condition_error(f"operator {type(op).__name__} is not allowed")
            for operand in (left, *comparators):
                _check_node(operand)
        case ast.Name():
            pass  # dunder names were refused before this walk
        case ast.Constant(value=value):
            if type(value) not in (bool, int, float, str, NoneType):
                raise _condition_error(f"literal {value!r} is not allowed")
        case ast.Tuple(elts=elements):
            for element in elements:
                if not isinstance(element, ast.Constant) and not _is_signed_number(element):
                    raise _condition_error("tuples may hold only literal values")
                _check_node(element)
        case _:
            what = _REFUSED.get(type(node), f"{type(node).__name__} is")
            hint = "; use a tuple" if isinstance(node, ast.List | ast.Set) else ""
            raise _condition_error(f"{what} not allowed in a condition{hint}")


def _literal_type(value: object) -> str:
    if isinstance(value, bool):
        return FactType.BOOL.value
    if isinstance(value, int | float):
        return FactType.NUMBER.value
    if isinstance(value, str):
        return FactType.TEXT.value
    return "none"


def _check_pair(left: str, op: ast.cmpop, right: str) -> None:
    """Refuse comparisons that could never be meaningful, e.g. text < number."""
    if isinstance(op, _MEMBERSHIPS):
        if right.startswith("tuple:"):
            member = right.removeprefix("tuple:")
            if member in ("empty", left) or left == "none":
                return
        elif left == right == FactType.TEXT:
            return  # substring test
        raise _condition_error(f"'in' cannot look for {left} in {right}")
    if isinstance(op, _ORDERINGS):
        if left == right and left in (FactType.NUMBER, FactType.TEXT):
            return
        raise _condition_error(f"ordering needs two numbers or two texts, got {left} and {right}")
    if left != right and "none" not in (left, right):
        raise _condition_error(f"cannot compare {left} with {right}")


@dataclass(frozen=True)
class Condition:
    """A parsed, whitelisted condition; evaluate it with `evaluate(facts)`.

    Semantics: a missing value (None) never satisfies an ordering (`<`, `>=`, ...),
    so a rule does not fire on data that was not supplied.
    """

    source: str
    tree: ast.Expression

    @property
    def names(self) -> frozenset[str]:
        """Field names the condition reads."""
        return frozenset(n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name))

    def check_types(self, fact_types: Mapping[str, FactType]) -> None:
        """Refuse unknown field names, mismatched comparisons and non-boolean results."""
        if self._infer(self.tree.body, fact_types) != FactType.BOOL:
            raise _condition_error("must be true or false, e.g. attendance_pct < 80")

    def evaluate(self, facts: Mapping[str, Fact]) -> bool:
        return bool(self._eval(self.tree.body, facts))

    def _infer(self, node: ast.AST, types: Mapping[str, FactType]) -> str:
        match node:
            case ast.BoolOp(values=values) | ast.UnaryOp(op=ast.Not(), operand=values):
                operands = values if isinstance(values, list) else [values]
                for operand in operands:
                    if self._infer(operand, types) != FactType.BOOL:
                        raise _condition_error("and/or/not need true-or-false operands")
                return FactType.BOOL.value
            case ast.UnaryOp():
                return FactType.NUMBER.value
            case ast.Constant(value=value):
                return _literal_type(value)
            case ast.Name(id=name):
                if name not in types:
                    known = ", ".join(sorted(types))
                    raise _condition_error(f"unknown field '{name}'; fields are: {known}")
                return types[name].value
            case ast.Tuple(elts=elements):
                members = {self._infer(e, types) for e in elements} - {"none"}
                if len(members) > 1:
                    raise _condition_error("a tuple must hold values of one type")
                return "tuple:" + (members.pop() if members else "empty")
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                kinds = [self._infer(operand, types) for operand in (left, *comparators)]
                for index, op in enumerate(ops):
                    _check_pair(kinds[index], op, kinds[index + 1])
                return FactType.BOOL.value
        raise _condition_error(f"{type(node).__name__} is not allowed in a condition")

    def _eval(self, node: ast.AST, facts: Mapping[str, Fact]) -> Any:
        match node:
            case ast.BoolOp(op=ast.And(), values=values):
                return all(self._eval(v, facts) for v in values)
            case ast.BoolOp(op=ast.Or(), values=values):
                return any(self._eval(v, facts) for v in values)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return not self._eval(operand, facts)
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return -self._eval(operand, facts)
            case ast.UnaryOp(operand=operand):
                return self._eval(operand, facts)
            case ast.Constant(value=value):
                return value
            case ast.Tuple(elts=elements):
                return tuple(self._eval(e, facts) for e in elements)
            case ast.Name(id=name):
                if name not in facts:
                    raise _condition_error(f"unknown field '{name}'")
                return facts[name]
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                return self._compare(left, ops, comparators, facts)
        raise _condition_error(f"{type(node).__name__} is not allowed in a condition")

    def _compare(
        self,
        left: ast.expr,
        ops: list[ast.cmpop],
        comparators: list[ast.expr],
        facts: Mapping[str, Fact],
    ) -> bool:
        current = self._eval(left, facts)
        for op, comparator in zip(ops, comparators, strict=True):
            following = self._eval(comparator, facts)
            if isinstance(op, _ORDERINGS) and (current is None or following is None):
                return False
            try:
                holds = _COMPARISONS[type(op)](current, following)
            except TypeError as exc:  # only reachable if check_types was skipped
                raise _condition_error(f"cannot compare: {exc}") from None
            if not holds:
                return False
            current = following
        return True


@lru_cache(maxsize=1024)
def parse_condition(source: str) -> Condition:
    """Parse a condition such as `attendance_pct < 80 and term == "2025-autumn"`.

    Allowed: field names, numbers, strings, True/False/None, tuples of literals,
    comparisons (== != < <= > >= in, not in, chained), and/or/not. Everything else
    (attribute access, calls, indexing, arithmetic, imports, dunder names) is refused
    with a DomainError(field="condition"). Parsed with `ast`, evaluated by walking the
    tree: nothing is ever passed to eval.
    """
    text = source.strip()
    if not text:
        raise _condition_error("must not be empty")
    if len(text) > MAX_CONDITION_LENGTH:
        raise _condition_error(f"must be at most {MAX_CONDITION_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        if re.search(r"\bimport\b", text):
            raise _condition_error("imports are not allowed in a condition") from None
        raise _condition_error(f"invalid syntax: {exc.msg} (column {exc.offset})") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > _MAX_CONDITION_NODES:
        raise _condition_error("is too complex")
    for node in nodes:
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
        if isinstance(name, str) and name.startswith("__"):
            raise _condition_error(f"names starting with '__' are not allowed ({name})")
    _check_node(tree.body)
    return Condition(source=text, tree=tree)


def _cause_fields(template: str) -> list[str]:
    """Placeholders of a cause template; only plain `{field}` names are allowed."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise DomainError("cause_template", f"invalid template: {exc}") from None
    fields = []
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        # str.format would follow {x.__class__} or {x[0]}: plain names only.
        if not field.isidentifier() or field.startswith("_") or spec or conversion:
            raise DomainError("cause_template", "placeholders must be plain field names")
        fields.append(field)
    return fields


def render_cause(template: str, facts: Mapping[str, Fact]) -> str:
    """Fill a cause template such as "attendance:{term}" from evidence facts."""
    rendered = []
    for literal, field, _, _ in string.Formatter().parse(template):
        rendered.append(literal)
        if field is not None:
            if field not in facts:
                raise DomainError("cause_template", f"unknown field '{field}'")
            rendered.append(str(facts[field]))
    return "".join(rendered)


# ---------------------------------------------------------------------- alert rules


class AlertRule(_Record):
    """One version of a configurable rule: when `condition` holds on `watches` evidence,
    raise a `severity` alert about the `target`, once per rendered `cause_template`.

    Rules are data: a change (e.g. a threshold) is a new version via `revise_rule`;
    old versions stay for audit and alerts record the version that raised them.
    """

    rule_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    version: int = Field(default=1, ge=1)
    title: str = Field(min_length=1, max_length=200)
    watches: EvidenceKind
    condition: str = Field(min_length=1, max_length=MAX_CONDITION_LENGTH)
    severity: Severity
    target: AlertTarget
    cause_template: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    changed_by: str = Field(default="system", min_length=1)
    changed_at: datetime | None = None
    change_reason: str | None = None
    # The law, guidance or notice the rule carries out (None: a local practice rule).
    source: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _fits_what_it_watches(self) -> Self:
        evidence_type = EVIDENCE_TYPES[self.watches]
        if self.target not in evidence_type.TARGETS:
            raise DomainError("target", f"{self.watches} evidence has no {self.target} to alert")
        fact_types = evidence_type.fact_types()
        parse_condition(self.condition).check_types(fact_types)
        for field in _cause_fields(self.cause_template):
            if field not in fact_types:
                raise DomainError("cause_template", f"unknown field '{field}'")
        if self.changed_at is not None:
            _require_aware("changed_at", self.changed_at)
        return self

    def matches(self, evidence: Evidence) -> bool:
        """Whether this rule, if enabled, fires on `evidence`."""
        return (
            self.enabled
            and evidence.kind == self.watches
            and parse_condition(self.condition).evaluate(evidence.facts())
        )


def revise_rule(
    rule: AlertRule,
    *,
    changed_by: str,
    changed_at: datetime,
    reason: str,
    title: str | None = None,
    condition: str | None = None,
    severity: Severity | None = None,
    enabled: bool | None = None,
) -> AlertRule:
    """Next version of a rule with the given changes (id, watches, target, cause fixed).

    What a rule watches, what it targets and its cause template define which alerts
    are "the same cause"; changing those is a new rule, not a new version.
    """
    _require_aware("changed_at", changed_at)
    changes = {
        key: value
        for key, value in {
            "title": title,
            "condition": condition,
            "severity": severity,
            "enabled": enabled,
        }.items()
        if value is not None and value != getattr(rule, key)
    }
    if not changes:
        raise DomainError("rule", "a new version must change something")
    if not reason.strip():
        raise DomainError("change_reason", "must say why the rule changed")
    data = rule.model_dump() | changes
    data |= {
        "version": rule.version + 1,
        "changed_by": changed_by,
        "changed_at": changed_at,
        "change_reason": reason,
    }
    return AlertRule.model_validate(data)


def current_rules(versions: Iterable[AlertRule]) -> dict[str, AlertRule]:
    """Latest version of each rule, from the full audit history."""
    latest: dict[str, AlertRule] = {}
    for rule in versions:
        if rule.rule_id not in latest or rule.version > latest[rule.rule_id].version:
            latest[rule.rule_id] = rule
    return latest


def _default_rule(
    rule_id: str,
    title: str,
    watches: EvidenceKind,
    condition: str,
    severity: Severity,
    target: AlertTarget,
    cause: str,
    source: str | None = None,
) -> AlertRule:
    return AlertRule(
        rule_id=rule_id,
        title=title,
        watches=watches,
        condition=condition,
        severity=severity,
        target=target,
        cause_template=cause,
        source=source,
    )


_K = EvidenceKind
_S = Severity

SOURCE_OFSTED = (
    "Ofsted, School inspection handbook (four-point judgements, to 2025) and report card "
    "grades (renewed education inspection framework, November 2025)."
)
SOURCE_SAFEGUARDING = (
    "Ofsted, School inspection handbook (September 2023/2024): ineffective safeguarding "
    "makes leadership and management, and overall effectiveness, inadequate; Ofsted "
    "renewed education inspection framework (November 2025): safeguarding met / not met, "
    "not met places the school in a category of concern."
)
SOURCE_STANDARDS = (
    "Education (Independent School Standards) Regulations 2014 (SI 2014/3283), enforced "
    "under the Education and Skills Act 2008 ss.114-116; Ofsted, Non-association "
    "independent school inspection handbook (standards met / not met)."
)
SOURCE_REVIEW_PERIOD = (
    "Children and Families Act 2014 s.44(1): the EHC plan is reviewed at least every 12 "
    "months, counted from the review last held (or the plan first made)."
)
SOURCE_APPLICATION_CLOCK = (
    "Public Contracts Regulations 2015 reg 34(15)-(16): a request to participate is "
    "evaluated within 10 working days, extendable to 15 with a recorded reason."
)
SOURCE_SELF_DECLARATION = (
    "Public Contracts Regulations 2015 reg 34(25): a member may be asked at any time for a "
    "renewed self-declaration, to be given within 5 working days."
)
SOURCE_NOTICES = (
    "Public Contracts Regulations 2015 reg 50 (contract award notices within 30 days, or "
    "grouped quarterly for DPS call-offs) and reg 34(27)-(28) (change of the DPS period)."
)
SOURCE_PHASE_TRANSFER = (
    "SEND Regulations 2014 reg 18: on a phase transfer the school is named in the EHC plan "
    "by 15 February (31 March for a transfer to post-16 education)."
)
_PROVIDER, _PLACEMENT, _SCHEME = AlertTarget.PROVIDER, AlertTarget.PLACEMENT, AlertTarget.SCHEME

DEFAULT_RULES: tuple[AlertRule, ...] = (
    # Ofsted: the "requires improvement" and "inadequate" equivalents in every framework.
    # The cause is the inspection, so a re-inspection at the same grade alerts again.
    _default_rule(
        "ofsted-requires-improvement",
        "Ofsted judgement requires improvement",
        _K.OFSTED_INSPECTION,
        'judgement in ("requires_improvement", "needs_attention")',
        _S.WARNING,
        _PROVIDER,
        "inspection:{inspected_on}",
        SOURCE_OFSTED,
    ),
    _default_rule(
        "ofsted-inadequate",
        "Ofsted judgement inadequate",
        _K.OFSTED_INSPECTION,
        'judgement in ("inadequate", "urgent_improvement", "not_met")',
        _S.CRITICAL,
        _PROVIDER,
        "inspection:{inspected_on}",
        SOURCE_OFSTED,
    ),
    # Safeguarding not met is critical whatever the other grades, and (being failing and
    # a safeguarding rule) brings a suspension recommendation with it.
    _default_rule(
        "inspection-safeguarding-not-met",
        "Inspection: safeguarding not met",
        _K.OFSTED_INSPECTION,
        "safeguarding_met == False",
        _S.CRITICAL,
        _PROVIDER,
        "inspection:{inspected_on}",
        SOURCE_SAFEGUARDING,
    ),
    # Independent School Standards not met: at least a warning whatever the other grades
    # (critical as well when the standards are the inspection's only judgement).
    _default_rule(
        "independent-school-standards-not-met",
        "Inspection: Independent School Standards not met",
        _K.OFSTED_INSPECTION,
        "standards_met == False",
        _S.WARNING,
        _PROVIDER,
        "inspection:{inspected_on}",
        SOURCE_STANDARDS,
    ),
    # Every safeguarding incident is its own cause, whatever its severity.
    _default_rule(
        "safeguarding-incident",
        "Safeguarding incident reported",
        _K.INCIDENT,
        'category == "safeguarding"',
        _S.CRITICAL,
        _PROVIDER,
        "incident:{evidence_id}",
    ),
    # Attendance bands are disjoint so one return raises one attendance alert; the cause
    # is not per term, so low attendance term after term stays one open alert.
    _default_rule(
        "kpi-attendance-below-90",
        "Attendance below 90%",
        _K.KPI_RETURN,
        "80 <= attendance_pct < 90",
        _S.WARNING,
        _PLACEMENT,
        "attendance-below-90",
    ),
    _default_rule(
        "kpi-attendance-below-80",
        "Attendance below 80%",
        _K.KPI_RETURN,
        "attendance_pct < 80",
        _S.CRITICAL,
        _PLACEMENT,
        "attendance-below-80",
    ),
    _default_rule(
        "kpi-outcomes-not-met-twice",
        "EHC outcomes not met in two consecutive KPI returns",
        _K.KPI_RETURN,
        'outcomes_progress == "not_met" and consecutive_not_met >= 2',
        _S.WARNING,
        _PLACEMENT,
        "outcomes-not-met",
    ),
    _default_rule(
        "review-overdue",
        "Annual review overdue",
        _K.REVIEW_OVERDUE,
        "days_overdue >= 1",
        _S.WARNING,
        _PLACEMENT,
        "review:{due_on}",
    ),
    _default_rule(
        "document-expired",
        "Compliance document expired",
        _K.DOCUMENT_EXPIRY,
        "expired",
        _S.WARNING,
        _PROVIDER,
        "document:{document_type}:{expires_on}",
    ),
    _default_rule(
        "uplift-above-cap",
        "Fee uplift requested above the cap",
        _K.UPLIFT_REQUESTED,
        "excess_pct > 0",
        _S.INFO,
        _PLACEMENT,
        "uplift:{requested_on}",
    ),
    _default_rule(
        "kpi-return-missing",
        "KPI return not received for the term",
        _K.KPI_RETURN_MISSING,
        "True",
        _S.WARNING,
        _PLACEMENT,
        "kpi-missing:{term}",
    ),
    # Decision on procurement.competition.no_suitable_bid: a round that sends the
    # search to a lower tier is routine (no alert); a competition that ends with no tier
    # left ("escalate") leaves a child's placement need unmet on the DPS, which a
    # monitoring officer must act on. The target is the placement need the competition
    # was run for (procurement's `need_ref`); block-contract competitions have none and
    # raise nothing here (procurement alerts commissioners on those itself).
    _default_rule(
        "competition-no-suitable-bid",
        "Call-off competition ended with no suitable bid",
        _K.COMPETITION_WITHOUT_SUITABLE_BID,
        'next_action == "escalate"',
        _S.WARNING,
        _PLACEMENT,
        "no-suitable-bid:{competition_id}",
    ),
)

# Statutory clocks the procurement and placements services run: each breach reaches a
# monitoring officer (issue 12: notices, reviews, self-declarations, phase transfers).
STATUTORY_CLOCK_RULES: tuple[AlertRule, ...] = (
    _default_rule(
        "application-decision-overdue",
        "DPS application not decided within its statutory period",
        _K.APPLICATION_OVERDUE,
        "days_overdue >= 0",
        _S.WARNING,
        _PROVIDER,
        "application:{application_id}",
        SOURCE_APPLICATION_CLOCK,
    ),
    _default_rule(
        "review-date-beyond-statutory-limit",
        "Annual review set later than 12 months after the last review",
        _K.REVIEW_SCHEDULED,
        "beyond_statutory_limit",
        _S.WARNING,
        _PLACEMENT,
        "review-limit:{due_on}",
        SOURCE_REVIEW_PERIOD,
    ),
    _default_rule(
        "self-declaration-overdue",
        "Renewed self-declaration not given within 5 working days",
        _K.SELF_DECLARATION_OVERDUE,
        "True",
        _S.WARNING,
        _PROVIDER,
        "self-declaration:{request_id}",
        SOURCE_SELF_DECLARATION,
    ),
    _default_rule(
        "notice-overdue",
        "Statutory notice not published by its due date",
        _K.NOTICE_OVERDUE,
        "True",
        _S.WARNING,
        _SCHEME,
        "notice:{notice_id}",
        SOURCE_NOTICES,
    ),
    # A child may start the school year without a school named: critical.
    _default_rule(
        "phase-transfer-deadline-at-risk",
        "Call-off cannot finish before the school must be named (phase transfer)",
        _K.CALL_OFF_DEADLINE_AT_RISK,
        "days_late > 0",
        _S.CRITICAL,
        _PLACEMENT,
        "phase-transfer:{competition_id}",
        SOURCE_PHASE_TRANSFER,
    ),
)
DEFAULT_RULES = DEFAULT_RULES + STATUTORY_CLOCK_RULES

# Rules whose open alerts count as "an open safeguarding alert" for suspension.
SAFEGUARDING_RULE_IDS: frozenset[str] = frozenset(
    {"safeguarding-incident", "inspection-safeguarding-not-met"}
)


# ------------------------------------------------------------------ KPI return history


def with_outcome_streak(current: KpiReturn, history: Iterable[KpiReturn]) -> KpiReturn:
    """`current` with `consecutive_not_met` computed from the placement's earlier returns.

    Counts `current` plus the unbroken run of "not met" returns before it, in term
    order. A term with no return neither breaks nor extends the run (the missing return
    raises its own alert); a resubmitted term counts once, latest submission wins.
    """
    if current.outcomes_progress is not OutcomeProgress.NOT_MET:
        return current.model_copy(update={"consecutive_not_met": 0})
    current_key = term_sort_key(current.term)
    by_term: dict[str, KpiReturn] = {}
    for earlier in history:
        if earlier.placement_id != current.placement_id:
            continue
        if term_sort_key(earlier.term) >= current_key:
            continue
        kept = by_term.get(earlier.term)
        if kept is None or earlier.submitted_on >= kept.submitted_on:
            by_term[earlier.term] = earlier
    streak = 1
    for term in sorted(by_term, key=term_sort_key, reverse=True):
        if by_term[term].outcomes_progress is not OutcomeProgress.NOT_MET:
            break
        streak += 1
    return current.model_copy(update={"consecutive_not_met": streak})


class PlacementRecord(_Record):
    """A placement as monitoring sees it (from placements.v1 events).

    `ends_on` is the last day of the placement (inclusive); None while it runs on.
    """

    placement_id: _Id
    provider_id: _Id
    primary_need: NeedType
    starts_on: date
    ends_on: date | None = None
    weekly_fee: Decimal = Field(ge=0)
    on_contract: bool = True

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise DomainError("ends_on", "must not be before starts_on")
        return self

    def active_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def active_during(self, first: date, last: date) -> bool:
        return self.starts_on <= last and (self.ends_on is None or self.ends_on >= first)


def missing_kpi_returns(
    placements: Iterable[PlacementRecord], returns: Iterable[KpiReturn], term: str
) -> list[KpiReturnMissing]:
    """Placements active at any time in the term's window with no KPI return for it.

    The evidence id is deterministic ("kpi-missing:<placement>:<term>") so running the
    check twice yields the same evidence.
    """
    first, last = term_window(term)
    returned = {r.placement_id for r in returns if r.term == term}
    return [
        KpiReturnMissing(
            evidence_id=f"kpi-missing:{p.placement_id}:{term}",
            provider_id=p.provider_id,
            placement_id=p.placement_id,
            term=term,
        )
        for p in sorted(placements, key=lambda p: p.placement_id)
        if p.active_during(first, last) and p.placement_id not in returned
    ]


class KpiReturnState(StrEnum):
    SUBMITTED = "submitted"
    DUE = "due"  # not in yet, the deadline still ahead
    OVERDUE = "overdue"  # not in, the deadline passed ("no KPI return" is raised)


@dataclass(frozen=True)
class KpiReturnOwed:
    """One placement's KPI return for one term, as the provider owes it."""

    placement_id: str
    term: str
    deadline: datetime
    state: KpiReturnState
    return_id: str | None = None


def kpi_returns_owed(
    placements: Iterable[PlacementRecord],
    returns: Iterable[KpiReturn],
    term: str,
    deadline: datetime,
    now: datetime,
) -> list[KpiReturnOwed]:
    """Every placement active in the term's window, with its return or what is owed."""
    _require_aware("now", now)
    first, last = term_window(term)
    returned = {r.placement_id: r.evidence_id for r in returns if r.term == term}
    late = KpiReturnState.OVERDUE if now >= deadline else KpiReturnState.DUE
    return [
        KpiReturnOwed(
            placement_id=p.placement_id,
            term=term,
            deadline=deadline,
            state=KpiReturnState.SUBMITTED if p.placement_id in returned else late,
            return_id=returned.get(p.placement_id),
        )
        for p in sorted(placements, key=lambda p: p.placement_id)
        if p.active_during(first, last)
    ]


# ----------------------------------------------------------------------- evaluation


class RuleMatch(_Record):
    """A rule fired on a piece of evidence: the input to `raise_alert`."""

    rule_id: str
    rule_version: int
    title: str
    severity: Severity
    target: AlertTarget
    target_id: str
    provider_id: str | None
    placement_id: str | None
    cause: str
    evidence_kind: EvidenceKind
    evidence_ref: str

    @property
    def dedupe_key(self) -> str:
        """rule id + target + cause: at most one unresolved alert per key."""
        return f"{self.rule_id}|{self.target}:{self.target_id}|{self.cause}"


def evaluate_rules(rules: Iterable[AlertRule], evidence: Evidence) -> list[RuleMatch]:
    """Every enabled rule watching this evidence whose condition holds.

    Pass current versions only (see `current_rules`). Evidence without the rule's
    target (a block competition has no placement) is skipped.
    """
    facts = evidence.facts()
    matches = []
    for rule in rules:
        if not rule.enabled or rule.watches != evidence.kind:
            continue
        target_id = evidence.target_id(rule.target)
        if target_id is None or not parse_condition(rule.condition).evaluate(facts):
            continue
        matches.append(
            RuleMatch(
                rule_id=rule.rule_id,
                rule_version=rule.version,
                title=rule.title,
                severity=rule.severity,
                target=rule.target,
                target_id=target_id,
                provider_id=evidence.provider_id,
                placement_id=evidence.target_id(AlertTarget.PLACEMENT),
                cause=render_cause(rule.cause_template, facts),
                evidence_kind=EvidenceKind(evidence.kind),
                evidence_ref=evidence.evidence_id,
            )
        )
    return matches


# --------------------------------------------------------------------------- alerts


class AlertStatus(StrEnum):
    """open -> acknowledged -> resolved. Open and acknowledged alerts are unresolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


def _officer(field: str, officer_id: str) -> str:
    if not officer_id.strip():
        raise DomainError(field, "must name a monitoring officer")
    return officer_id.strip()


class Alert(_Record):
    """A quality alert for monitoring officers. Transitions return a new Alert."""

    alert_id: _Id
    dedupe_key: str
    rule_id: str
    rule_version: int
    title: str
    severity: Severity
    target: AlertTarget
    target_id: str
    provider_id: str | None = None
    placement_id: str | None = None
    cause: str
    evidence_kind: EvidenceKind
    evidence_refs: tuple[str, ...] = ()
    raised_at: datetime
    status: AlertStatus = AlertStatus.OPEN
    assigned_to: str | None = None
    assigned_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None
    escalated_at: datetime | None = None
    escalated_to: str | None = None

    @model_validator(mode="after")
    def _times_are_aware(self) -> Self:
        _require_aware("raised_at", self.raised_at)
        return self

    @property
    def is_unresolved(self) -> bool:
        return self.status is not AlertStatus.RESOLVED

    def _check_now(self, now: datetime) -> None:
        _require_aware("now", now)
        if now < self.raised_at:
            raise DomainError("now", "must not be before the alert was raised")

    def _refuse_if_resolved(self, action: str) -> None:
        if self.status is AlertStatus.RESOLVED:
            raise DomainError("status", f"a resolved alert cannot be {action}")

    def assign(self, officer_id: str, now: datetime) -> Alert:
        """Give the alert to a monitoring officer (re-assigning is allowed)."""
        self._check_now(now)
        self._refuse_if_resolved("assigned")
        officer = _officer("officer_id", officer_id)
        return self.model_copy(update={"assigned_to": officer, "assigned_at": now})

    def acknowledge(self, officer_id: str, now: datetime) -> Alert:
        """An officer takes ownership; stops escalation. Only from open."""
        self._check_now(now)
        self._refuse_if_resolved("acknowledged")
        if self.status is AlertStatus.ACKNOWLEDGED:
            raise DomainError("status", "the alert is already acknowledged")
        officer = _officer("officer_id", officer_id)
        update: dict[str, Any] = {
            "status": AlertStatus.ACKNOWLEDGED,
            "acknowledged_by": officer,
            "acknowledged_at": now,
        }
        if self.assigned_to is None:  # whoever acknowledges an unassigned alert owns it
            update |= {"assigned_to": officer, "assigned_at": now}
        return self.model_copy(update=update)

    def resolve(self, officer_id: str, outcome: str, now: datetime) -> Alert:
        """Close an acknowledged alert with an outcome saying what was done."""
        self._check_now(now)
        self._refuse_if_resolved("resolved again")
        if self.status is not AlertStatus.ACKNOWLEDGED:
            raise DomainError("status", "acknowledge the alert before resolving it")
        officer = _officer("officer_id", officer_id)
        text = outcome.strip()
        if not text:
            raise DomainError("outcome", "resolving an alert needs an outcome")
        try:
            text = _check_free_text(text, OUTCOME_MAX_LENGTH)
        except ValueError as exc:
            raise DomainError("outcome", str(exc)) from None
        return self.model_copy(
            update={
                "status": AlertStatus.RESOLVED,
                "resolved_by": officer,
                "resolved_at": now,
                "outcome": text,
            }
        )

    def escalate(self, now: datetime, escalated_to: str | None = None) -> Alert:
        """Record escalation (once); see `needs_escalation` for when."""
        self._check_now(now)
        self._refuse_if_resolved("escalated")
        if self.escalated_at is not None:
            raise DomainError("escalated_at", "the alert is already escalated")
        return self.model_copy(update={"escalated_at": now, "escalated_to": escalated_to})

    def with_evidence(self, evidence_ref: str) -> Alert:
        """Add further evidence of the same cause to an unresolved alert (idempotent)."""
        if evidence_ref in self.evidence_refs:
            return self
        return self.model_copy(update={"evidence_refs": (*self.evidence_refs, evidence_ref)})


def raise_alert(
    match: RuleMatch, *, alert_id: str, now: datetime, open_alerts: Iterable[Alert]
) -> Alert | None:
    """A new open alert for `match`, or None while an unresolved one has its dedupe key."""
    _require_aware("now", now)
    key = match.dedupe_key
    if any(a.dedupe_key == key and a.is_unresolved for a in open_alerts):
        return None
    return Alert(
        alert_id=alert_id,
        dedupe_key=key,
        rule_id=match.rule_id,
        rule_version=match.rule_version,
        title=match.title,
        severity=match.severity,
        target=match.target,
        target_id=match.target_id,
        provider_id=match.provider_id,
        placement_id=match.placement_id,
        cause=match.cause,
        evidence_kind=match.evidence_kind,
        evidence_refs=(match.evidence_ref,),
        raised_at=now,
    )


def raise_alerts(
    matches: Iterable[RuleMatch],
    *,
    open_alerts: Iterable[Alert],
    now: datetime,
    new_alert_id: Callable[[RuleMatch], str],
) -> list[Alert]:
    """Alerts to open for a batch of matches, deduplicated also within the batch."""
    known = [a for a in open_alerts if a.is_unresolved]
    raised: list[Alert] = []
    for match in matches:
        alert = raise_alert(match, alert_id=new_alert_id(match), now=now, open_alerts=known)
        if alert is not None:
            raised.append(alert)
            known.append(alert)
    return raised


def escalation_deadline(
    alert: Alert,
    working_day_deadline: Callable[[datetime, int], datetime],
    working_days: int = 1,
) -> datetime:
    """When an unacknowledged critical alert escalates: "within N working days" of being
    raised, in the project's London convention (`shared.working_days`): the raising day
    never counts and the period ends at the *end* of the N-th working day after it in
    Europe/London (an exclusive instant). So 1 working day means the end of the next
    working day: raised Friday 15:00 -> escalates at Tuesday 00:00 London time.

    Takes the calendar function as a parameter so this layer needs no calendar.
    """
    if working_days < 1:
        raise DomainError("working_days", "must be at least 1")
    return working_day_deadline(alert.raised_at, working_days)


def needs_escalation(alert: Alert, now: datetime, deadline: datetime) -> bool:
    """True when a critical alert is still open (unacknowledged) at or after `deadline`
    and has not been escalated yet."""
    _require_aware("now", now)
    _require_aware("deadline", deadline)
    return (
        alert.severity is Severity.CRITICAL
        and alert.status is AlertStatus.OPEN
        and alert.escalated_at is None
        and now >= deadline
    )


# ----------------------------------------------------------------------- suspension


class SuspensionStatus(StrEnum):
    OPEN = "open"  # awaiting the provider register's decision
    CLOSED = "closed"


class SuspensionRecommendation(_Record):
    """Monitoring's recommendation that a provider be suspended from the register."""

    recommendation_id: _Id
    provider_id: _Id
    reasons: tuple[str, ...] = Field(min_length=1)
    evidence_refs: tuple[str, ...] = ()
    alert_ids: tuple[str, ...] = ()
    recommended_at: datetime
    status: SuspensionStatus = SuspensionStatus.OPEN
    closed_at: datetime | None = None
    decision: str | None = None
    raised_by: str | None = None  # an officer raised it by hand; None: the rules did
    grounds: tuple[str, ...] = ()

    def close(self, decision: str, now: datetime) -> SuspensionRecommendation:
        """Record the register's decision (e.g. "suspended", "not suspended")."""
        _require_aware("now", now)
        if self.status is SuspensionStatus.CLOSED:
            raise DomainError("status", "the recommendation is already closed")
        if not decision.strip():
            raise DomainError("decision", "closing a recommendation needs a decision")
        return self.model_copy(
            update={"status": SuspensionStatus.CLOSED, "closed_at": now, "decision": decision}
        )


@dataclass(frozen=True)
class SuspensionGround:
    """A ground on which a monitoring officer may recommend suspension by hand."""

    code: str
    label: str
    source: str  # the law, guidance or contract term the ground rests on


# Grounds an officer may cite when recommending suspension by hand. The commissioner
# still decides (provider_registry); these only say why monitoring thinks it should.
SUSPENSION_GROUNDS: dict[str, SuspensionGround] = {
    g.code: g
    for g in (
        SuspensionGround(
            "safeguarding",
            "Safeguarding concern",
            "Keeping children safe in education (DfE statutory guidance); Education Act "
            "2002 s.175 and s.157 with the Education (Independent School Standards) "
            "Regulations 2014 Sch. 1 Part 3 para 7 (the school's safeguarding duty).",
        ),
        SuspensionGround(
            "inspection",
            "Inspection outcome",
            SOURCE_OFSTED + " " + SOURCE_STANDARDS,
        ),
        SuspensionGround(
            "exclusion",
            "A ground for excluding the provider has arisen",
            "Public Contracts Regulations 2015 reg 57 (mandatory and discretionary "
            "exclusion grounds), which a DPS member must go on meeting (reg 34(25)).",
        ),
        SuspensionGround(
            "performance",
            "Significant or persistent deficiencies in performing the placement contract",
            "Public Contracts Regulations 2015 reg 57(8)(g); the placement contract's "
            "terms on serious or persistent breach.",
        ),
    )
}
SUSPENSION_REASON_MAX_LENGTH = 2000


def recommend_suspension_by_hand(
    provider_id: str,
    *,
    grounds: Iterable[str],
    reason: str,
    raised_by: str,
    existing: Iterable[SuspensionRecommendation],
    now: datetime,
    recommendation_id: str,
) -> SuspensionRecommendation:
    """A monitoring officer's own recommendation, citing grounds and saying why.

    Like the rules' one, at most one open recommendation per provider: a second would
    ask the commissioner the same question twice (409 at the API).
    """
    _require_aware("now", now)
    codes = list(dict.fromkeys(grounds))
    if not codes:
        raise DomainError("grounds", "choose at least one ground")
    unknown = [c for c in codes if c not in SUSPENSION_GROUNDS]
    if unknown:
        raise DomainError("grounds", f"unknown ground {unknown[0]!r}")
    try:
        text = _check_free_text(reason.strip(), SUSPENSION_REASON_MAX_LENGTH)
    except ValueError as exc:
        raise DomainError("reason", str(exc)) from None
    if not text:
        raise DomainError("reason", "say why suspension is recommended")
    if any(r.provider_id == provider_id and r.status is SuspensionStatus.OPEN for r in existing):
        raise DomainError("status", "an open suspension recommendation already awaits a decision")
    return SuspensionRecommendation(
        recommendation_id=recommendation_id,
        provider_id=provider_id,
        reasons=(*(f"Grounds: {SUSPENSION_GROUNDS[c].label}" for c in codes), text),
        recommended_at=now,
        raised_by=raised_by,
        grounds=tuple(codes),
    )


def latest_inspection(
    provider_id: str, inspections: Iterable[OfstedInspection]
) -> OfstedInspection | None:
    """The provider's most recent inspection (by inspection date)."""
    own = [i for i in inspections if i.provider_id == provider_id]
    return max(own, key=lambda i: (i.inspected_on, i.published_on or i.inspected_on), default=None)


def _failing_reason(inspection: OfstedInspection) -> str:
    inspected = f"(inspected {inspection.inspected_on.isoformat()})"
    if inspection.judgement in FAILING_JUDGEMENTS:
        reason = f"Latest Ofsted judgement is {inspection.judgement} {inspected}"
        if inspection.safeguarding_met is False:
            reason += "; safeguarding not met"
        return reason
    return f"Latest inspection found safeguarding not met {inspected}"


def recommend_suspension(
    provider_id: str,
    *,
    inspections: Iterable[OfstedInspection],
    open_alerts: Iterable[Alert],
    existing: Iterable[SuspensionRecommendation],
    now: datetime,
    recommendation_id: str,
    safeguarding_rule_ids: Collection[str] = SAFEGUARDING_RULE_IDS,
) -> SuspensionRecommendation | None:
    """Recommend suspension when BOTH hold for the provider:

    1. its latest inspection is failing (inadequate, report-card urgent improvement,
       Independent School Standards not met, or safeguarding not met: the shared
       `shared.contracts.inspections.is_failing`), and
    2. it has at least one unresolved alert from a safeguarding rule (an inspection with
       safeguarding not met raises one itself, so it is recommended on its own).

    One recommendation per provider while it is open; None otherwise.
    """
    _require_aware("now", now)
    if any(r.provider_id == provider_id and r.status is SuspensionStatus.OPEN for r in existing):
        return None
    inspection = latest_inspection(provider_id, inspections)
    if inspection is None or not inspection.failing:
        return None
    safeguarding = sorted(
        (
            a
            for a in open_alerts
            if a.provider_id == provider_id
            and a.is_unresolved
            and a.rule_id in safeguarding_rule_ids
        ),
        key=lambda a: (a.raised_at, a.alert_id),
    )
    if not safeguarding:
        return None
    reasons = [
        _failing_reason(inspection),
        *(
            f"Unresolved safeguarding alert {a.alert_id} raised {a.raised_at.date().isoformat()}"
            for a in safeguarding
        ),
    ]
    refs = [inspection.evidence_id, *(ref for a in safeguarding for ref in a.evidence_refs)]
    return SuspensionRecommendation(
        recommendation_id=recommendation_id,
        provider_id=provider_id,
        reasons=tuple(reasons),
        evidence_refs=tuple(dict.fromkeys(refs)),
        alert_ids=tuple(a.alert_id for a in safeguarding),
        recommended_at=now,
    )


# ------------------------------------------------------------------------ scorecard


def _count_by_severity(alerts: Iterable[Alert]) -> dict[Severity, int]:
    """Unresolved alerts per severity, every severity present (zero if none)."""
    counts = dict.fromkeys(Severity, 0)
    for alert in alerts:
        if alert.is_unresolved:
            counts[alert.severity] += 1
    return counts


class VisitRating(_Record):
    visited_on: date
    rating: int


class TermKpi(_Record):
    """One term of a provider's KPI returns, across its placements."""

    term: str
    returns: int
    mean_attendance_pct: float
    exclusions: int
    incidents: int
    outcomes_not_met: int


class Scorecard(_Record):
    """A provider at a glance for monitoring officers and commissioners."""

    provider_id: str
    as_of: date
    current_ofsted: OfstedInspection | None
    visit_ratings: tuple[VisitRating, ...]  # oldest first; 1 best .. 4 worst
    mean_visit_rating: float | None
    kpi_by_term: tuple[TermKpi, ...]  # term order, the attendance trend
    open_alerts_by_severity: dict[Severity, int]
    active_placements: int
    weekly_spend: Decimal


def _kpi_by_term(returns: Iterable[KpiReturn]) -> tuple[TermKpi, ...]:
    grouped: dict[str, list[KpiReturn]] = defaultdict(list)
    for kpi_return in returns:
        grouped[kpi_return.term].append(kpi_return)
    return tuple(
        TermKpi(
            term=term,
            returns=len(group),
            mean_attendance_pct=fmean(r.attendance_pct for r in group),
            exclusions=sum(r.exclusions for r in group),
            incidents=sum(r.incidents for r in group),
            outcomes_not_met=sum(r.outcomes_progress is OutcomeProgress.NOT_MET for r in group),
        )
        for term, group in sorted(grouped.items(), key=lambda item: term_sort_key(item[0]))
    )


def build_scorecard(
    provider_id: str,
    *,
    as_of: date,
    inspections: Iterable[OfstedInspection] = (),
    visits: Iterable[MonitoringVisit] = (),
    kpi_returns: Iterable[KpiReturn] = (),
    alerts: Iterable[Alert] = (),
    placements: Iterable[PlacementRecord] = (),
) -> Scorecard:
    """Aggregate a provider's records; inputs may include other providers' (filtered).

    Records dated after `as_of` are ignored; placements count if active on `as_of`,
    and weekly spend is the sum of their weekly fees.
    """
    own_visits = sorted(
        (v for v in visits if v.provider_id == provider_id and v.visited_on <= as_of),
        key=lambda v: (v.visited_on, v.evidence_id),
    )
    active = [p for p in placements if p.provider_id == provider_id and p.active_on(as_of)]
    return Scorecard(
        provider_id=provider_id,
        as_of=as_of,
        current_ofsted=latest_inspection(
            provider_id, (i for i in inspections if i.inspected_on <= as_of)
        ),
        visit_ratings=tuple(
            VisitRating(visited_on=v.visited_on, rating=v.rating) for v in own_visits
        ),
        mean_visit_rating=fmean(v.rating for v in own_visits) if own_visits else None,
        kpi_by_term=_kpi_by_term(r for r in kpi_returns if r.provider_id == provider_id),
        open_alerts_by_severity=_count_by_severity(
            a for a in alerts if a.provider_id == provider_id
        ),
        active_placements=len(active),
        weekly_spend=sum((p.weekly_fee for p in active), Decimal(0)),
    )


# ------------------------------------------------------------------------ dashboard


class SpendLine(_Record):
    """Committed spend on one placement in one financial year.

    Shaped like placements.v1 `placement.spend.committed`, a snapshot per
    (placement, financial year): the caller passes the latest snapshot of each.
    """

    placement_id: _Id
    provider_id: _Id
    primary_need: NeedType
    financial_year: int = Field(ge=2000, le=2100)  # 2025 = 2025/26
    amount: Decimal = Field(ge=0)
    on_contract: bool  # under a DPS award or block contract
    # "block_unfilled_places": a block's empty places (placement_id is the block's id):
    # spend, but not a placement, so it never counts in cost per placement.
    line: Literal["placement", "block_unfilled_places"] = "placement"


class ReviewDue(_Record):
    """A placement's annual review: due date and, once held, when."""

    placement_id: _Id
    provider_id: _Id
    due_on: date
    completed_on: date | None = None

    def overdue_on(self, day: date) -> bool:
        return self.completed_on is None and day > self.due_on


class YearSpend(_Record):
    """Spend in one financial year against its budget."""

    financial_year: int
    label: str
    spend: Decimal
    on_contract_spend: Decimal
    budget: Decimal | None
    variance: Decimal | None  # spend - budget: positive is overspend


class NeedCost(_Record):
    """Spend and cost per placement for one primary need in a financial year."""

    need: NeedType
    placements: int
    spend: Decimal
    cost_per_placement: Decimal


class Dashboard(_Record):
    """Council-wide value for money and compliance view."""

    as_of: date
    financial_year: int
    spend_by_year: tuple[YearSpend, ...]
    on_contract_share: float | None  # of the selected year's spend; None when no spend
    cost_per_placement_by_need: dict[NeedType, NeedCost]
    open_alerts_by_severity: dict[Severity, int]
    reviews_overdue: int
    overdue_review_placements: tuple[str, ...]


class YearTotal(_Record):
    """Spend of one financial year, on or off contract (summed by the database)."""

    financial_year: int
    on_contract: bool
    amount: Decimal


def year_totals(lines: Iterable[SpendLine]) -> list[YearTotal]:
    sums: dict[tuple[int, bool], Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[(line.financial_year, line.on_contract)] += line.amount
    return [
        YearTotal(financial_year=year, on_contract=on, amount=amount)
        for (year, on), amount in sums.items()
    ]


def _spend_by_year(
    totals: Iterable[YearTotal], budgets: Mapping[int, Decimal]
) -> tuple[YearSpend, ...]:
    spend: dict[int, Decimal] = defaultdict(Decimal)
    on_contract: dict[int, Decimal] = defaultdict(Decimal)
    for total in totals:
        spend[total.financial_year] += total.amount
        if total.on_contract:
            on_contract[total.financial_year] += total.amount
    rows = []
    for year in sorted(set(spend) | set(budgets)):
        budget = budgets.get(year)
        rows.append(
            YearSpend(
                financial_year=year,
                label=financial_year_label(year),
                spend=spend[year],
                on_contract_spend=on_contract[year],
                budget=budget,
                variance=None if budget is None else spend[year] - budget,
            )
        )
    return tuple(rows)


def _cost_by_need(lines: Iterable[SpendLine]) -> dict[NeedType, NeedCost]:
    """Cost per placement = the need's spend / distinct placements with spend that year.

    A zero snapshot (commitment withdrawn) is not a placement, nor is a block's line for
    its unfilled places (its cost is spend all the same).
    """
    spend: dict[NeedType, Decimal] = defaultdict(Decimal)
    placements: dict[NeedType, set[str]] = defaultdict(set)
    for line in lines:
        if line.amount == 0:
            continue
        spend[line.primary_need] += line.amount
        if line.line == "placement":
            placements[line.primary_need].add(line.placement_id)
    return {
        need: NeedCost(
            need=need,
            placements=len(placements[need]),
            spend=spend[need],
            cost_per_placement=(spend[need] / max(len(placements[need]), 1)).quantize(
                Decimal("0.01")
            ),
        )
        for need in sorted(spend)
    }


def build_dashboard(
    *,
    as_of: date,
    spend: Iterable[SpendLine] = (),
    budgets: Mapping[int, Decimal] | None = None,
    alerts: Iterable[Alert] = (),
    reviews: Iterable[ReviewDue] = (),
    financial_year: int | None = None,
    totals: Iterable[YearTotal] | None = None,
) -> Dashboard:
    """Aggregate the council-wide dashboard.

    `budgets` maps financial year (2025 = 2025/26) to budget. Spend is shown for every
    year with spend or a budget; on-contract share and cost per placement by need are
    for `financial_year` (default: the one containing `as_of`). A review is overdue when
    not completed and `as_of` is after its due date. `totals` (spend per year, on and
    off contract) may come summed from the database; then `spend` need only hold the
    selected year's lines.
    """
    year = financial_year if financial_year is not None else financial_year_of(as_of)
    lines = list(spend)
    rows = _spend_by_year(year_totals(lines) if totals is None else totals, budgets or {})
    selected = next((row for row in rows if row.financial_year == year), None)
    share = None
    if selected is not None and selected.spend > 0:
        share = float(selected.on_contract_spend / selected.spend)
    overdue = sorted({r.placement_id for r in reviews if r.overdue_on(as_of)})
    return Dashboard(
        as_of=as_of,
        financial_year=year,
        spend_by_year=rows,
        on_contract_share=share,
        cost_per_placement_by_need=_cost_by_need(
            line for line in lines if line.financial_year == year
        ),
        open_alerts_by_severity=_count_by_severity(alerts),
        reviews_overdue=len(overdue),
        overdue_review_placements=tuple(overdue),
    )
