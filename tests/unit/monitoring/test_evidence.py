"""Evidence validation, KPI history helpers and term arithmetic."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from services.monitoring.domain import (
    EVIDENCE_TYPES,
    AlertTarget,
    AnyEvidence,
    CompetitionWithoutSuitableBid,
    DomainError,
    FactType,
    Judgement,
    KpiReturn,
    lowest_report_card_grade,
    missing_kpi_returns,
    term_sort_key,
    term_window,
    with_outcome_streak,
)

from .factories import incident, inspection, kpi_return, placement, visit


def refused(build: object, **fields: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        build(**fields)  # type: ignore[operator]
    return caught.value


# Validation names the field and the rule ------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"attendance_pct": 100.1}, "attendance_pct", "less than or equal to 100"),
        ({"attendance_pct": -0.1}, "attendance_pct", "greater than or equal to 0"),
        ({"attendance_pct": float("nan")}, "attendance_pct", "finite number"),
        ({"exclusions": -1}, "exclusions", "greater than or equal to 0"),
        ({"incidents": -1}, "incidents", "greater than or equal to 0"),
        ({"term": "autumn-2025"}, "term", "pattern"),
        ({"term": "2025-winter"}, "term", "pattern"),
        ({"outcomes_progress": "mostly"}, "outcomes_progress", "'met', 'partly' or 'not_met'"),
        ({"outcomes_progress": "met", "consecutive_not_met": 1}, "consecutive_not_met", "0"),
        ({"outcomes_progress": "not_met", "consecutive_not_met": 0}, "consecutive_not_met", "1"),
        ({"placement_id": ""}, "placement_id", "at least 1 character"),
        ({"unknown": 1}, "unknown", "Extra inputs are not permitted"),
    ],
)
def test_kpi_return_validation(fields: dict, field: str, rule: str) -> None:
    error = refused(kpi_return, **fields)
    assert error.field == field
    assert rule in error.rule


@pytest.mark.parametrize("attendance", [0.0, 100.0])
def test_kpi_attendance_bounds_are_inclusive(attendance: float) -> None:
    assert kpi_return(attendance_pct=attendance).attendance_pct == attendance


@pytest.mark.parametrize("rating", [0, 5])
def test_visit_rating_is_one_to_four(rating: int) -> None:
    assert refused(visit, rating=rating).field == "rating"


@pytest.mark.parametrize(
    "summary",
    [
        "Name: Jane Smith was restrained",
        "child's name = Jane",
        "Surname: Smith",
        "Pupil name:Jane",
        "DOB: 01/05/2014",
        "date of birth: 1 May 2014",
    ],
)
def test_incident_summary_refuses_obvious_identifiers(summary: str) -> None:
    error = refused(incident, summary=summary)
    assert error.field == "summary"
    assert "child reference" in error.rule


def test_incident_summary_allows_ordinary_text_and_child_reference() -> None:
    text = "Staff named in the complaint were redeployed; KCC-EHC-000123 affected."
    assert incident(summary=text).summary == text


def test_incident_summary_has_a_maximum_length() -> None:
    assert incident(summary="x" * 1000)
    error = refused(incident, summary="x" * 1001)
    assert (error.field, error.rule) == ("summary", "must be at most 1000 characters")


def test_incident_needs_a_summary_and_a_known_severity() -> None:
    assert refused(incident, summary="").field == "summary"
    assert refused(incident, severity="severe").field == "severity"


def test_visit_findings_are_guarded_too() -> None:
    assert refused(visit, findings="Name: Jane").field == "findings"


@pytest.mark.parametrize(
    ("framework", "judgement"),
    [("four_point", "met"), ("report_card", "good"), ("independent_school_standards", "good")],
)
def test_judgement_must_belong_to_its_framework(framework: str, judgement: str) -> None:
    error = refused(inspection, framework=framework, judgement=judgement)
    assert error.field == "judgement"


def test_report_card_headline_is_the_lowest_area_grade() -> None:
    grades = {"quality_of_education": "strong_standard", "leadership": "needs_attention"}
    card = inspection(framework="report_card", judgement="needs_attention", area_grades=grades)
    assert card.judgement is Judgement.NEEDS_ATTENTION
    error = refused(
        inspection, framework="report_card", judgement="strong_standard", area_grades=grades
    )
    assert (error.field, error.rule) == ("judgement", "must be the lowest of the area grades")
    assert refused(inspection, area_grades=grades).field == "area_grades"


def test_lowest_report_card_grade_refuses_other_scales() -> None:
    with pytest.raises(DomainError, match="area_grades"):
        lowest_report_card_grade({"x": Judgement.GOOD})
    with pytest.raises(DomainError, match="area_grades"):
        lowest_report_card_grade({})


def test_published_not_before_inspected() -> None:
    error = refused(inspection, published_on=date(2025, 9, 30))
    assert error.field == "published_on"


# Facts and the evidence registry ------------------------------------------------------


def test_every_evidence_kind_has_one_model() -> None:
    for kind, model in EVIDENCE_TYPES.items():
        assert model.model_fields["kind"].default == kind.value


def test_facts_expose_dates_as_iso_text_and_enums_as_values() -> None:
    facts = kpi_return().facts()
    assert facts["submitted_on"] == "2026-01-05"
    assert facts["outcomes_progress"] == "met"
    assert kpi_return().fact_types()["attendance_pct"] is FactType.NUMBER
    assert "area_grades" not in inspection().facts()  # only scalars are facts


def test_any_evidence_decodes_by_kind() -> None:
    decoded = TypeAdapter(AnyEvidence).validate_python(kpi_return().model_dump())
    assert isinstance(decoded, KpiReturn)


def test_competition_for_a_block_contract_has_no_placement_target() -> None:
    block = CompetitionWithoutSuitableBid(
        evidence_id="c1", competition_id="C1", closed_on=date(2026, 1, 1), bids_received=0
    )
    assert block.target_id(AlertTarget.PLACEMENT) is None


# Terms and the outcome streak ------------------------------------------------------------


def test_terms_sort_by_calendar_year_then_season() -> None:
    terms = ["2026-spring", "2025-autumn", "2025-spring", "2025-summer"]
    assert sorted(terms, key=term_sort_key) == [
        "2025-spring",
        "2025-summer",
        "2025-autumn",
        "2026-spring",
    ]


@given(st.integers(min_value=2000, max_value=2100))
def test_term_windows_tile_the_year(year: int) -> None:
    windows = [term_window(f"{year}-{season}") for season in ("spring", "summer", "autumn")]
    assert windows[0][0] == date(year, 1, 1)
    assert windows[-1][1] == date(year, 12, 31)
    for (_, end), (start, _) in pairwise(windows):
        assert (start - end).days == 1


def test_streak_skips_missing_terms_and_counts_a_resubmission_once() -> None:
    history = [
        kpi_return(term="2025-spring", outcomes_progress="not_met", evidence_id="a"),
        # summer missing: neither breaks nor extends the run
        kpi_return(
            term="2025-autumn",
            outcomes_progress="met",
            evidence_id="b",
            submitted_on=date(2026, 1, 1),
        ),
        kpi_return(
            term="2025-autumn",
            outcomes_progress="not_met",
            evidence_id="c",
            submitted_on=date(2026, 1, 2),
        ),  # resubmission wins
        kpi_return(term="2026-summer", outcomes_progress="met", evidence_id="later"),
        kpi_return(term="2025-autumn", placement_id="OTHER", outcomes_progress="met"),
    ]
    current = kpi_return(term="2026-spring", outcomes_progress="not_met", evidence_id="d")
    assert with_outcome_streak(current, history).consecutive_not_met == 3


def test_streak_is_zero_unless_not_met() -> None:
    assert with_outcome_streak(kpi_return(outcomes_progress="partly"), []).consecutive_not_met == 0


def test_missing_kpi_returns_lists_active_placements_without_a_return() -> None:
    placements = [
        placement(placement_id="PL1"),  # returned
        placement(placement_id="PL2"),  # missing
        placement(placement_id="PL3", starts_on=date(2026, 1, 5)),  # starts after autumn
        placement(placement_id="PL4", starts_on=date(2024, 9, 1), ends_on=date(2025, 8, 31)),
        placement(placement_id="PL5", starts_on=date(2024, 9, 1), ends_on=date(2025, 9, 1)),
    ]
    returns = [
        kpi_return(placement_id="PL1"),
        kpi_return(placement_id="PL2", term="2025-summer"),  # wrong term
    ]
    missing = missing_kpi_returns(placements, returns, "2025-autumn")
    assert [(m.placement_id, m.term) for m in missing] == [
        ("PL2", "2025-autumn"),
        ("PL5", "2025-autumn"),
    ]
    assert missing[0].evidence_id == "kpi-missing:PL2:2025-autumn"


def test_missing_kpi_returns_refuses_a_bad_term() -> None:
    with pytest.raises(DomainError, match="term"):
        missing_kpi_returns([], [], "autumn")
