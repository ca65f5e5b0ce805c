"""The SEN2 placement detail and the Transparency Code contracts list (domain.returns)."""

from __future__ import annotations

import csv
import dataclasses
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.placements.domain import returns
from services.placements.domain.returns.lgtc import NOT_RECORDED
from shared.contracts.common import Attendance
from shared.errors import DomainError

YEAR = 2027  # census day 21 January 2027; collection year 2026


def _good(**overrides: object) -> returns.Sen2Placement:
    made = returns.sen2_placement(
        child_ref="KCC-EHC-000123",
        placement_id="pl-1",
        urn=123456,
        entry_date=date(2025, 9, 3),
        ended_on=None,
        attendance=Attendance.DAY,
        year=YEAR,
    )
    return dataclasses.replace(made, **overrides)  # type: ignore[arg-type]


def _rules(*placements: returns.Sen2Placement) -> set[str]:
    return {issue.error.rule for issue in returns.validate_sen2(placements, YEAR)}


@pytest.mark.parametrize(
    ("year", "census"),
    [(2024, date(2024, 1, 18)), (2025, date(2025, 1, 16)), (2026, date(2026, 1, 15))],
)
def test_census_day_is_the_third_thursday_of_january(year: int, census: date) -> None:
    assert returns.census_date(year) == census


def test_the_collection_year_is_the_calendar_year_before_the_census() -> None:
    assert returns.collection_year(YEAR) == (date(2026, 1, 1), date(2026, 12, 31))


def test_a_placement_attended_in_the_year_or_up_to_census_day_is_in_scope() -> None:
    assert returns.in_scope(date(2020, 9, 1), None, YEAR)
    assert returns.in_scope(date(2027, 1, 5), None, YEAR)  # after the year, before census
    assert returns.in_scope(date(2024, 9, 1), date(2026, 1, 1), YEAR)
    assert not returns.in_scope(date(2024, 9, 1), date(2025, 12, 31), YEAR)
    assert not returns.in_scope(date(2027, 2, 1), None, YEAR)


def test_a_good_extract_passes_every_rule() -> None:
    left = _good(
        placement_id="pl-0",
        entry_date=date(2023, 9, 1),
        leaving_date=date(2025, 7, 20),
    )
    assert returns.validate_sen2([_good()], YEAR) == []
    # One main placement after another for the same child is fine.
    later = _good(placement_id="pl-2", entry_date=date(2026, 9, 1))
    earlier = _good(entry_date=date(2024, 9, 1), leaving_date=date(2026, 7, 20))
    assert returns.validate_sen2([earlier, later], YEAR) == []
    assert "leaving_date_before_collection_year" in _rules(left)


def test_a_leaving_date_on_or_after_census_day_is_not_reported() -> None:
    still_there = returns.sen2_placement(
        child_ref="c",
        placement_id="p",
        urn=123456,
        entry_date=date(2025, 9, 3),
        ended_on=date(2027, 7, 20),
        attendance=Attendance.RESIDENTIAL_52,
        year=YEAR,
    )
    left = dataclasses.replace(still_there, leaving_date=None)
    assert still_there == left
    assert still_there.attendance_pattern == "FT"


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"child_ref": " "}, "child_ref_required"),
        ({"urn": None}, "establishment_required"),
        ({"sen_setting": "OTH"}, "sen_setting_only_without_establishment"),
        ({"urn": "12345"}, "urn_six_digits"),
        ({"urn": "12345A"}, "urn_six_digits"),
        ({"ukprn": "20001234"}, "ukprn_eight_digits"),
        ({"placement_rank": 3}, "placement_rank_code"),
        ({"attendance_pattern": "day"}, "attendance_pattern_code"),
        ({"entry_date": None}, "entry_date_required"),
        ({"entry_date": date(2027, 1, 22)}, "entry_date_after_census"),
        ({"leaving_date": date(2025, 9, 1)}, "leaving_date_before_entry"),
        ({"leaving_date": date(2027, 1, 21)}, "leaving_date_not_before_census"),
        ({"leaving_date": date(2025, 12, 31)}, "leaving_date_before_collection_year"),
    ],
)
def test_each_bad_case_names_its_rule_and_source(overrides: dict[str, object], rule: str) -> None:
    issues = returns.validate_sen2([_good(**overrides)], YEAR)
    assert rule in {i.error.rule for i in issues}
    named = next(i for i in issues if i.error.rule == rule)
    field, _, source = returns.SEN2_RULES[rule]
    assert named.error.field == field and named.source == source
    assert "SEN2" in source or "CBDS" in source
    assert named.to_dict()["placement_id"] == "pl-1"


def test_two_main_placements_at_once_for_one_child_are_refused() -> None:
    first = _good()
    second = _good(placement_id="pl-2", entry_date=date(2026, 3, 1))
    assert _rules(first, second) == {"one_main_placement_at_a_time"}
    other_child = _good(placement_id="pl-3", child_ref="KCC-EHC-000999")
    assert _rules(first, other_child) == set()


def test_the_xml_carries_the_spec_tags_and_the_pseudonymous_key_only() -> None:
    sen2 = returns.build_return([_good(), _good(placement_id="pl-9", child_ref="B")], YEAR)
    xml = returns.sen2_xml(
        sen2, la_code="886", generated_at=datetime(2027, 1, 30, 9, tzinfo=UTC), release="t"
    )
    root = ET.fromstring(xml)
    assert root.findtext("Header/CollectionDetails/Collection") == "SEN2"
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == "2027-01-21"
    assert root.findtext("Header/Source/LEA") == "886"
    persons = root.findall("Persons/Person")
    assert [p.findtext("ChildRef") for p in persons] == ["B", "KCC-EHC-000123"]
    detail = persons[1].find("ActivePlans/PlacementDetail")
    assert detail is not None
    assert [e.tag for e in detail] == [
        "URN",
        "PlacementRank",
        "EntryDate",
        "AttendancePattern",
        "SENunitIndicator",
        "ResourcedProvisionIndicator",
    ]
    assert detail.findtext("URN") == "123456" and detail.findtext("EntryDate") == "2025-09-03"
    assert sen2.valid


# --- the Transparency Code list -------------------------------------------------------------


def _line(value: str, reference: str = "c-1", **overrides: object) -> returns.ContractLine:
    line = returns.placement_contract_line(
        reference=reference,
        provider_name="Oakfield School",
        establishment_type="independent_special_school",
        primary_need="ASD",
        attendance=Attendance.DAY,
        source="dps_award",
        value=Decimal(value),
        start=date(2026, 9, 1),
        end=date(2029, 8, 31),
        review_date=date(2027, 6, 1),
        department="SEND",
    )
    return dataclasses.replace(line, **overrides)  # type: ignore[arg-type]


def test_quarters_are_calendar_quarters_and_a_bad_one_names_the_field() -> None:
    assert returns.quarter_bounds("2026-Q3") == (date(2026, 7, 1), date(2026, 9, 30))
    assert returns.quarter_bounds("2026-q4") == (date(2026, 10, 1), date(2026, 12, 31))
    with pytest.raises(DomainError) as refused:
        returns.quarter_bounds("2026-Q5")
    assert (refused.value.field, refused.value.rule) == ("quarter", "quarter_format")
    for impossible in ("0000-Q1", "9999-Q4"):
        with pytest.raises(DomainError) as refused:
            returns.quarter_bounds(impossible)
        assert (refused.value.field, refused.value.rule) == ("quarter", "quarter_out_of_range")


def test_in_force_means_overlapping_the_quarter() -> None:
    q3 = returns.quarter_bounds("2026-Q3")
    assert returns.in_force(date(2026, 9, 30), date(2027, 1, 1), q3)
    assert returns.in_force(date(2020, 1, 1), date(2026, 7, 1), q3)
    assert not returns.in_force(date(2026, 10, 1), date(2027, 1, 1), q3)


def test_the_csv_lists_contracts_exceeding_5000_with_every_column_the_code_names() -> None:
    rows = list(
        csv.reader(
            io.StringIO(
                returns.contracts_csv(
                    [_line("5000.00", "at"), _line("5000.01", "over"), _line("90000", "big")]
                )
            )
        )
    )
    assert rows[0] == [heading for heading, _ in returns.LGTC_COLUMNS]
    assert all("Transparency Code 2015" in source for _, source in returns.LGTC_COLUMNS)
    assert [r[0] for r in rows[1:]] == ["big", "over"]  # exceeding £5,000; by start, ref
    big = next(r for r in rows[1:] if r[0] == "big")
    record = dict(zip(rows[0], big, strict=True))
    assert record["Title of agreement"] == "Independent special school placement (ASD, day)"
    assert record["Value (sum to be paid over the length of the contract)"] == "90000.00"
    assert record["VAT that cannot be recovered"] == "0.00"
    assert record["Start date"] == "2026-09-01" and record["Review date"] == "2027-06-01"
    assert record["SME"] == NOT_RECORDED
    assert record["Invitation to quote or published invitation to tender"].startswith(
        "published invitation to tender"
    )


def test_no_row_says_anything_about_a_child() -> None:
    line = _line("20000")
    text = " ".join(line.cells())
    assert "KCC-EHC" not in text and "child_ref" not in text
    block = returns.block_contract_line(
        reference="c-block",
        provider_name="Oakfield School",
        primary_need="SEMH",
        attendance=Attendance.RESIDENTIAL_38,
        places=4,
        competed=False,
        value=Decimal("400000"),
        start=date(2026, 4, 1),
        end=date(2028, 3, 31),
        review_date=None,
        department="SEND",
    )
    assert block.title == "Block contract: 4 special school places (SEMH, residential, 38 weeks)"
    assert block.route == NOT_RECORDED
