"""One reading of an inspection, shared by the provider register and monitoring.

An inspection (``providers.v1`` ``InspectionSummary``, or the register's own record)
may hold a four-point judgement, a report card, Independent School Standards met/not
met and safeguarding met/not met, in any combination. :func:`read_inspection` is the
ONLY place that turns those into judgements; the register's ``equivalent_judgement``
and monitoring's inspection evidence both come from it, so the two services cannot
disagree about what an inspection means.

Rules, each with its source:

- Headline grade: the grade in the inspection's own framework. A report card counts as
  its weakest area (report cards have no overall grade; Ofsted, *School inspection
  toolkit* and *report card* guidance, November 2025); else the four-point overall
  effectiveness judgement (Ofsted, *School inspection handbook* to 2025); else the
  Independent School Standards outcome, met / not met (Education and Skills Act 2008
  s.109; Education (Independent School Standards) Regulations 2014, SI 2014/3283).
- Four-point equivalent (used for "minimum Ofsted judgement" filters): a report card's
  weakest area on the four-point scale (:data:`REPORT_CARD_EQUIVALENT`).
- Safeguarding not met -> inadequate, whatever the other grades
  (:data:`SAFEGUARDING_NOT_MET`). Source: Ofsted *School inspection handbook*
  (September 2023/2024): ineffective safeguarding makes leadership and management, and
  so overall effectiveness, inadequate; from November 2025 safeguarding is judged
  met / not met and "not met" places the school in a category of concern.
- Independent School Standards not met -> requires improvement at best
  (:data:`STANDARDS_NOT_MET_CAP`). Source: SI 2014/3283 (the standards) and Ofsted's
  *Non-association independent school inspection handbook*, where leadership and
  management cannot be good while a standard is unmet; the unmet standards are
  enforced by the DfE (Education and Skills Act 2008 s.114: notice requiring an action
  plan). Choice: a cap, not "inadequate", because inspectors weigh the unmet standards
  into any graded judgement they give.
- Failing (:func:`is_failing`): the worst grade of the headline's framework
  (inadequate, urgent improvement, standards not met) or safeguarding not met.

Pure: no I/O. Values of every enum equal those of the ``providers.v1`` vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from shared.contracts.providers_v1 import OfstedJudgement, ReportCardArea, ReportCardGrade


class InspectionFramework(StrEnum):
    """Which scheme an inspection's headline grade belongs to."""

    FOUR_POINT = "four_point"  # outstanding .. inadequate (to 2025)
    REPORT_CARD = "report_card"  # five grades per area (from November 2025)
    INDEPENDENT_SCHOOL_STANDARDS = "independent_school_standards"  # met / not met


class StandardsJudgement(StrEnum):
    """Independent School Standards outcome (SI 2014/3283)."""

    MET = "met"
    NOT_MET = "not_met"


Grade = OfstedJudgement | ReportCardGrade | StandardsJudgement

JUDGEMENT_RANK: Mapping[OfstedJudgement, int] = {
    OfstedJudgement.OUTSTANDING: 1,
    OfstedJudgement.GOOD: 2,
    OfstedJudgement.REQUIRES_IMPROVEMENT: 3,
    OfstedJudgement.INADEQUATE: 4,
}
REPORT_CARD_RANK: Mapping[ReportCardGrade, int] = {
    grade: rank for rank, grade in enumerate(ReportCardGrade, start=1)
}
# A report card's weakest area, read on the four-point scale.
REPORT_CARD_EQUIVALENT: Mapping[ReportCardGrade, OfstedJudgement] = {
    ReportCardGrade.EXCEPTIONAL: OfstedJudgement.OUTSTANDING,
    ReportCardGrade.STRONG_STANDARD: OfstedJudgement.GOOD,
    ReportCardGrade.EXPECTED_STANDARD: OfstedJudgement.GOOD,
    ReportCardGrade.NEEDS_ATTENTION: OfstedJudgement.REQUIRES_IMPROVEMENT,
    ReportCardGrade.URGENT_IMPROVEMENT: OfstedJudgement.INADEQUATE,
}
# Safeguarding not met counts as this, whatever the other grades (handbook, above).
SAFEGUARDING_NOT_MET: OfstedJudgement = OfstedJudgement.INADEQUATE
# Independent School Standards not met: no better than this (SI 2014/3283, above).
STANDARDS_NOT_MET_CAP: OfstedJudgement = OfstedJudgement.REQUIRES_IMPROVEMENT
# The worst grade of each framework: a failing inspection.
FAILING_GRADES: frozenset[str] = frozenset(
    {
        OfstedJudgement.INADEQUATE.value,
        ReportCardGrade.URGENT_IMPROVEMENT.value,
        StandardsJudgement.NOT_MET.value,
    }
)


class InspectionOutcome(Protocol):
    """What an inspection records; the register's Inspection and InspectionSummary fit."""

    @property
    def overall(self) -> OfstedJudgement | None: ...

    @property
    def report_card(self) -> Mapping[ReportCardArea, ReportCardGrade]: ...

    @property
    def safeguarding_met(self) -> bool | None: ...

    @property
    def standards_met(self) -> bool | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class InspectionReading:
    """An inspection's judgements: headline grade in its own framework (None: no grade),
    four-point equivalent (None: grades nothing), and the two met/not met outcomes."""

    framework: InspectionFramework | None
    grade: Grade | None
    equivalent: OfstedJudgement | None
    safeguarding_met: bool | None
    standards_met: bool | None

    @property
    def failing(self) -> bool:
        return is_failing(self.grade, self.safeguarding_met)

    @property
    def records_anything(self) -> bool:
        return self.grade is not None or self.safeguarding_met is not None


def judgement_rank(judgement: OfstedJudgement) -> int:
    """Ofsted's grade number: 1 outstanding ... 4 inadequate (lower is better)."""
    return JUDGEMENT_RANK[judgement]


def worse(a: OfstedJudgement, b: OfstedJudgement) -> OfstedJudgement:
    return a if judgement_rank(a) >= judgement_rank(b) else b


def weakest_report_card_grade(grades: Iterable[ReportCardGrade]) -> ReportCardGrade:
    """A report card's headline: its lowest area grade; raises ValueError when empty."""
    return max(grades, key=REPORT_CARD_RANK.__getitem__)


def is_failing(grade: str | None, safeguarding_met: bool | None) -> bool:
    """Failing: the worst grade of its framework, or safeguarding not met."""
    return safeguarding_met is False or (grade is not None and grade in FAILING_GRADES)


def _headline(inspection: InspectionOutcome) -> tuple[InspectionFramework | None, Grade | None]:
    if inspection.report_card:
        weakest = weakest_report_card_grade(inspection.report_card.values())
        return InspectionFramework.REPORT_CARD, weakest
    if inspection.overall is not None:
        return InspectionFramework.FOUR_POINT, inspection.overall
    if inspection.standards_met is not None:
        met = StandardsJudgement.MET if inspection.standards_met else StandardsJudgement.NOT_MET
        return InspectionFramework.INDEPENDENT_SCHOOL_STANDARDS, met
    return None, None


def _equivalent(grade: Grade | None) -> OfstedJudgement | None:
    """The headline on the four-point scale (Independent School Standards alone: None)."""
    if isinstance(grade, ReportCardGrade):
        return REPORT_CARD_EQUIVALENT[grade]
    if isinstance(grade, OfstedJudgement):
        return grade
    return None


def _with_outcomes(
    judgement: OfstedJudgement | None, standards_met: bool | None, safeguarding_met: bool | None
) -> OfstedJudgement | None:
    if standards_met is False:
        judgement = (
            STANDARDS_NOT_MET_CAP if judgement is None else worse(judgement, STANDARDS_NOT_MET_CAP)
        )
    if safeguarding_met is False:
        judgement = SAFEGUARDING_NOT_MET
    return judgement


def read_inspection(inspection: InspectionOutcome) -> InspectionReading:
    """The one reading of an inspection (see the module's rules and sources)."""
    framework, grade = _headline(inspection)
    return InspectionReading(
        framework=framework,
        grade=grade,
        equivalent=_with_outcomes(
            _equivalent(grade), inspection.standards_met, inspection.safeguarding_met
        ),
        safeguarding_met=inspection.safeguarding_met,
        standards_met=inspection.standards_met,
    )
