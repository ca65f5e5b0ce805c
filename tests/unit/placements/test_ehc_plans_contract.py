"""Inbound contract ehc.plans.v1: what councils may send and what we keep."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from shared.contracts import ehc_plans_v1 as ehc
from shared.contracts.common import Attendance, NeedType
from shared.envelope import Envelope

from .factories import DESIGN_EXAMPLE_DATA, DESIGN_EXAMPLE_ENVELOPE


def _error_fields(exc: ValidationError) -> set[str]:
    return {".".join(str(part) for part in err["loc"]) for err in exc.errors()}


def test_design_example_parses() -> None:
    envelope = Envelope.model_validate(DESIGN_EXAMPLE_ENVELOPE)
    parsed = ehc.parse_data(envelope.type, envelope.data)
    assert isinstance(parsed, ehc.PlacementRequested)
    assert parsed.child_ref == envelope.subject
    assert parsed.primary_need is NeedType.ASD
    assert parsed.secondary_needs == (NeedType.SLCN,)
    assert parsed.attendance is Attendance.DAY
    assert parsed.postcode_district == "ME14"
    assert parsed.max_distance_km == 50
    assert parsed.ehc_plan.next_review_due.isoformat() == "2026-11-02"


def test_topic_and_event_types() -> None:
    assert ehc.TOPIC == "ehc.plans.v1"
    assert set(ehc.EVENT_TYPES) == {
        "ehc.plan.issued",
        "ehc.plan.amended",
        "ehc.plan.reviewed",
        "ehc.plan.ceased",
        "ehc.placement.requested",
    }


def test_name_like_fields_are_dropped_and_reported() -> None:
    data = {
        **DESIGN_EXAMPLE_DATA,
        "first_name": "Sam",
        "Surname": "Smith",
        "ehc_plan": {**DESIGN_EXAMPLE_DATA["ehc_plan"], "case_worker_name": "Jo Bloggs"},
        "carers": [{"fullName": "A Parent"}],
    }
    parsed = ehc.parse_data("ehc.placement.requested", data)
    dumped = json.dumps(parsed.model_dump(mode="json"))
    for name in ("Sam", "Smith", "Jo Bloggs", "A Parent"):
        assert name not in dumped
    assert not hasattr(parsed, "first_name")
    assert sorted(ehc.name_like_fields(data)) == [
        "data.Surname",
        "data.carers[0].fullName",
        "data.ehc_plan.case_worker_name",
        "data.first_name",
    ]


def test_unknown_non_name_fields_are_ignored_for_forward_compatibility() -> None:
    parsed = ehc.parse_data("ehc.placement.requested", {**DESIGN_EXAMPLE_DATA, "new_flag": 1})
    assert "new_flag" not in parsed.model_dump()


@pytest.mark.parametrize(
    ("field", "bad_value"),
    [
        ("primary_need", "AUTISM"),
        ("secondary_needs", ["SLCN", "XYZ"]),
        ("postcode_district", "ME14 5AB"),
        ("postcode_district", "14ME"),
        ("child_ref", "kcc ehc 1"),
        ("child_ref", "AB"),
        ("child_ref", "X" * 41),
        ("la_code", "88"),
        ("attendance", "weekly_boarding"),
        ("max_distance_km", 0),
    ],
)
def test_bad_values_are_refused_naming_the_field(field: str, bad_value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        ehc.parse_data("ehc.placement.requested", {**DESIGN_EXAMPLE_DATA, field: bad_value})
    assert any(loc.split(".")[0] == field for loc in _error_fields(caught.value))
    assert field in str(caught.value)


def test_need_codes_and_districts_are_normalised() -> None:
    parsed = ehc.parse_data(
        "ehc.placement.requested",
        {
            **DESIGN_EXAMPLE_DATA,
            "primary_need": "spld",
            "secondary_needs": ["SPLD", "asd", "ASD"],
            "postcode_district": " sw1a ",
        },
    )
    assert isinstance(parsed, ehc.PlacementRequested)
    assert parsed.primary_need is NeedType.SPLD
    assert parsed.secondary_needs == (NeedType.ASD,)  # primary and repeats removed
    assert parsed.postcode_district == "SW1A"


@pytest.mark.parametrize("district", ["M1", "B33", "W1A", "EC1A", "ME14", "SW1A", "CR0"])
def test_valid_outward_codes(district: str) -> None:
    data = {**DESIGN_EXAMPLE_DATA, "postcode_district": district}
    assert ehc.parse_data("ehc.placement.requested", data)


def test_year_group_can_replace_date_of_birth() -> None:
    data = {k: v for k, v in DESIGN_EXAMPLE_DATA.items() if k != "date_of_birth"}
    parsed = ehc.parse_data("ehc.placement.requested", {**data, "year_group": "R"})
    assert isinstance(parsed, ehc.PlacementRequested)
    assert parsed.year_group == 0
    with pytest.raises(ValidationError, match="date_of_birth or year_group"):
        ehc.parse_data("ehc.placement.requested", data)


def test_age_at_required_start_must_be_plausible() -> None:
    with pytest.raises(ValidationError, match="date_of_birth"):
        ehc.parse_data(
            "ehc.placement.requested", {**DESIGN_EXAMPLE_DATA, "date_of_birth": "1990-01-01"}
        )


def test_review_date_must_follow_issue_date() -> None:
    plan = {"issued_on": "2025-11-03", "next_review_due": "2025-11-03"}
    with pytest.raises(ValidationError, match="next_review_due"):
        ehc.parse_data("ehc.placement.requested", {**DESIGN_EXAMPLE_DATA, "ehc_plan": plan})


def test_other_event_types_carry_child_ref_and_what_changed() -> None:
    amended = ehc.parse_data(
        "ehc.plan.amended", {"child_ref": "KCC-EHC-000123", "postcode_district": "TN1"}
    )
    assert isinstance(amended, ehc.EhcPlanAmended)
    assert amended.model_fields_set == {"child_ref", "postcode_district"}
    reviewed = ehc.parse_data(
        "ehc.plan.reviewed",
        {
            "child_ref": "KCC-EHC-000123",
            "reviewed_on": "2026-10-20",
            "next_review_due": "2027-10-20",
        },
    )
    assert isinstance(reviewed, ehc.EhcPlanReviewed)
    ceased = ehc.parse_data(
        "ehc.plan.ceased", {"child_ref": "KCC-EHC-000123", "ceased_on": "2027-07-31"}
    )
    assert isinstance(ceased, ehc.EhcPlanCeased)
    issued = ehc.parse_data(
        "ehc.plan.issued",
        {k: v for k, v in DESIGN_EXAMPLE_DATA.items() if k not in ("required_start", "urgent")},
    )
    assert isinstance(issued, ehc.EhcPlanIssued)


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(ehc.UnknownEventType):
        ehc.parse_data("ehc.plan.deleted", {"child_ref": "ABC"})


def test_json_schemas_cover_every_type_and_validate_the_example() -> None:
    schemas = ehc.json_schemas()
    assert set(schemas) == set(ehc.EVENT_TYPES)
    requested = schemas["ehc.placement.requested"]
    assert {"child_ref", "la_code", "primary_need", "postcode_district"} <= set(
        requested["required"]
    )
    assert requested["properties"]["child_ref"]["pattern"] == "^[A-Z0-9-]{3,40}$"
    json.dumps(schemas)  # serialisable as written to docs/schemas/
