"""What a call-off asks for (kind, filter, award weights), and the rules on it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text, _validate_unique
from services.procurement.domain.schemes import AWARD_CRITERIA_SOURCE
from shared.contracts.common import Attendance, NeedType

if TYPE_CHECKING:
    from services.procurement.domain.memberships import GridPoint
    from services.procurement.domain.schemes import QualityQuestion, Scheme


class CompetitionKind(StrEnum):
    """A call-off buys one child's placement or a block of places."""

    INDIVIDUAL = "individual"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class FilterCriteria:
    """Objective filter, recorded as evidence of who could be invited and why.

    Age: the provider's statutory age range must cover ``min_age``..``max_age`` (for an
    individual placement both are the child's age at the required start). Distance:
    straight-line km from ``origin`` (e.g. the child's postcode district centroid).
    """

    need_type: NeedType
    attendance: Attendance
    min_age: int | None = None
    max_age: int | None = None
    origin: GridPoint | None = None
    max_distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class CompetitionSpec:
    """What the commissioner asks for; fixed for the life of the competition."""

    competition_id: str
    scheme_id: str
    category_code: str
    kind: CompetitionKind
    title: str
    filter: FilterCriteria
    quality_weight: int
    price_weight: int
    quality_questions: tuple[QualityQuestion, ...] = ()
    places: int = 1
    term_start: date | None = None  # block contracts
    term_end: date | None = None  # block contracts
    need_ref: str | None = None  # individual placement: the placement need
    opened_by: str = ""


def _validate_narrowing(scheme: Scheme, f: FilterCriteria) -> None:
    """Age and distance filters are ad hoc narrowing: only where the regime permits them
    and the scheme published them (never under full PCR 2015, reg 34(21)-(22))."""
    if scheme.may_screen:
        return
    ad_hoc = {
        "filter.min_age": f.min_age,
        "filter.max_age": f.max_age,
        "filter.max_distance_km": f.max_distance_km,
        "filter.origin": f.origin,
    }
    why = (
        f"{scheme.regime} does not allow ad hoc filters"
        if not scheme.regime_rules.may_screen
        else "the scheme did not publish age/distance screening"
    )
    for name, value in ad_hoc.items():
        _require(
            value is None,
            name,
            Rule.FILTER_NOT_PERMITTED,
            f"a call-off may not be narrowed by {name}: {why} "
            f"({scheme.regime_rules.invitation_source})",
        )


def permitted_filter(scheme: Scheme, f: FilterCriteria) -> FilterCriteria:
    """The filter with the ad hoc parts the scheme may not use removed (automatic
    call-offs: the need's age and distance are used only where screening is allowed)."""
    if scheme.may_screen:
        return f
    return replace(f, min_age=None, max_age=None, origin=None, max_distance_km=None)


def _validate_award_criteria_applied(scheme: Scheme, spec: CompetitionSpec) -> None:
    """Every call-off applies the scheme's published award criteria (reg 34(23)-(24),
    reg 76(4)): weights, questions and per-question minimums exactly as published."""
    a = scheme.award_criteria
    published = f"published: quality {a.quality_weight} / price {a.price_weight}"
    for name, mine, theirs in (
        ("quality_weight", spec.quality_weight, a.quality_weight),
        ("price_weight", spec.price_weight, a.price_weight),
    ):
        _require(
            mine == theirs,
            name,
            Rule.AWARD_CRITERIA_MISMATCH,
            f"{name} {mine} differs from the scheme's award criteria ({published}); "
            + AWARD_CRITERIA_SOURCE,
        )
    _require(
        tuple(spec.quality_questions) == tuple(a.quality_questions),
        "quality_questions",
        Rule.AWARD_CRITERIA_MISMATCH,
        "quality questions differ from the scheme's published award criteria ("
        + ", ".join(q.question_id for q in a.quality_questions)
        + "); "
        + AWARD_CRITERIA_SOURCE,
    )


def _validate_spec(scheme: Scheme, spec: CompetitionSpec) -> None:
    _require_text(spec.competition_id, "competition_id")
    _require_text(spec.title, "title")
    _require(spec.scheme_id == scheme.scheme_id, "scheme_id", Rule.MISMATCH, "other scheme")
    category = scheme.category(spec.category_code)
    _require(
        spec.filter.need_type in category.need_types,
        "filter.need_type",
        Rule.FILTER_OUTSIDE_CATEGORY,
        f"{spec.filter.need_type} is not in category {category.code}",
    )
    _require(
        spec.filter.attendance in category.attendance,
        "filter.attendance",
        Rule.FILTER_OUTSIDE_CATEGORY,
        f"{spec.filter.attendance} is not in category {category.code}",
    )
    _validate_filter(spec.filter)
    _validate_narrowing(scheme, spec.filter)
    _validate_weights(spec)
    _validate_award_criteria_applied(scheme, spec)
    if spec.kind is CompetitionKind.BLOCK:
        _require(spec.places >= 1, "places", Rule.OUT_OF_RANGE, "at least one place")
        _require(
            spec.term_start is not None and spec.term_end is not None,
            "term_end",
            Rule.REQUIRED,
            "block contracts need a term",
        )
        assert spec.term_start is not None and spec.term_end is not None
        _require(spec.term_end > spec.term_start, "term_end", Rule.OUT_OF_RANGE, "end after start")
    else:
        _require(spec.places == 1, "places", Rule.OUT_OF_RANGE, "an individual placement is 1")
        _require_text(spec.need_ref, "need_ref")


def _validate_filter(f: FilterCriteria) -> None:
    if f.min_age is not None and f.max_age is not None:
        _require(f.min_age <= f.max_age, "filter.max_age", Rule.OUT_OF_RANGE, "max < min age")
    if f.max_distance_km is not None:
        _require(f.max_distance_km > 0, "filter.max_distance_km", Rule.OUT_OF_RANGE, "> 0")
        _require(f.origin is not None, "filter.origin", Rule.REQUIRED, "distance needs an origin")


def _validate_weights(spec: CompetitionSpec) -> None:
    for name, w in (("quality_weight", spec.quality_weight), ("price_weight", spec.price_weight)):
        _require(0 <= w <= 100, name, Rule.OUT_OF_RANGE, "between 0 and 100")
    _require(
        spec.quality_weight + spec.price_weight == 100,
        "price_weight",
        Rule.WEIGHTS_MUST_SUM_TO_100,
        "quality and price weights must sum to 100",
    )
    _validate_unique([q.question_id for q in spec.quality_questions], "quality_questions")
    for q in spec.quality_questions:
        f = f"quality_questions.{q.question_id}"
        _require(q.max_score > 0, f + ".max_score", Rule.OUT_OF_RANGE, "> 0")
        _require(q.weight > 0, f + ".weight", Rule.OUT_OF_RANGE, "> 0")
    _require(
        spec.quality_weight == 0 or bool(spec.quality_questions),
        "quality_questions",
        Rule.REQUIRED,
        "a quality weight needs quality questions",
    )
