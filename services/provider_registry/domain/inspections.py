"""Inspections: one reading in any framework, minimum judgements and declines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from shared.contracts.inspections import REPORT_CARD_RANK, judgement_rank, read_inspection
from shared.contracts.providers_v1 import (
    OfstedJudgement,
    ReportCardArea,
    ReportCardGrade,
)
from shared.errors import DomainError

# --- inspections ----------------------------------------------------------------------

# Ranks, the report-card equivalence and the safeguarding/standards rules live in
# shared.contracts.inspections: the one reading of an inspection, monitoring's too.


@dataclass(frozen=True, kw_only=True)
class Inspection:
    """One inspection in any framework: the four-point judgement (``overall``), a
    report card (grade per area), and/or Independent School Standards met/not met."""

    inspected_on: date
    overall: OfstedJudgement | None = None
    report_card: Mapping[ReportCardArea, ReportCardGrade] = field(default_factory=dict)
    safeguarding_met: bool | None = None
    standards_met: bool | None = None


def equivalent_judgement(inspection: Inspection) -> OfstedJudgement | None:
    """The inspection read on the four-point scale, or None when it grades nothing.

    Delegates to :func:`shared.contracts.inspections.read_inspection`: a report card
    counts as its weakest area, safeguarding not met as inadequate, Independent School
    Standards not met caps at requires improvement (sources there).
    """
    return read_inspection(inspection).equivalent


def meets_minimum(inspection: Inspection | None, minimum: OfstedJudgement) -> bool:
    """True when the inspection is at least ``minimum``; ungraded never qualifies."""
    if inspection is None:
        return False
    judgement = equivalent_judgement(inspection)
    return judgement is not None and judgement_rank(judgement) <= judgement_rank(minimum)


def _fell(previous: bool | None, new: bool | None) -> bool:
    return previous is True and new is False


def is_decline(previous: Inspection | None, new: Inspection) -> bool:
    """True when ``new`` is worse than ``previous``: a lower four-point equivalent, a
    report card area graded lower, or standards/safeguarding going from met to not met."""
    if previous is None:
        return False
    before, after = equivalent_judgement(previous), equivalent_judgement(new)
    if before is not None and after is not None and judgement_rank(after) > judgement_rank(before):
        return True
    if _fell(previous.standards_met, new.standards_met):
        return True
    if _fell(previous.safeguarding_met, new.safeguarding_met):
        return True
    shared_areas = previous.report_card.keys() & new.report_card.keys()
    return any(
        REPORT_CARD_RANK[new.report_card[area]] > REPORT_CARD_RANK[previous.report_card[area]]
        for area in shared_areas
    )


def validate_inspection(inspection: Inspection, today: date) -> list[DomainError]:
    """An inspection must be dated today or earlier and record at least one outcome."""
    errors = []
    if inspection.inspected_on > today:
        errors.append(DomainError("inspected_on", "must not be in the future"))
    has_outcome = (
        inspection.overall is not None
        or bool(inspection.report_card)
        or inspection.standards_met is not None
        or inspection.safeguarding_met is not None
    )
    if not has_outcome:
        errors.append(
            DomainError("inspection", "must record a judgement, report card or standards")
        )
    return errors
