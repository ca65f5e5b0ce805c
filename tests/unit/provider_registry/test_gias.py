"""Import from the DfE GIAS extract (services/provider_registry/gias.py)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.provider_registry import gias
from services.provider_registry.domain import (
    Attendance,
    DomainError,
    GenderIntake,
    NeedType,
    OfstedJudgement,
    Point,
    ProviderType,
    distance_km,
)

TODAY = date(2025, 9, 1)  # generate_extract's default as_of

# A realistic row as GIAS exports it (suffixed column names).
ROW: dict[str, str] = {
    "URN": "118946",
    "LA (code)": "886",
    "LA (name)": "Kent",
    "EstablishmentName": "Oakfield House School",
    "TypeOfEstablishment (name)": "Other independent special school",
    "EstablishmentStatus (name)": "Open",
    "StatutoryLowAge": "7",
    "StatutoryHighAge": "19",
    "Boarders (name)": "Boarding school",
    "Gender (name)": "Mixed",
    "SchoolCapacity": "64",
    "NumberOfPupils": "58",
    "Section41Approved (name)": "Approved",
    "Street": "Boxley Road",
    "Locality": "Penenden Heath",
    "Address3": "",
    "Town": "Maidstone",
    "County (name)": "Kent",
    "Postcode": "me14 2aa",
    "Easting": "577100",
    "Northing": "157200",
    "PropsName": "Kestrel Education Ltd",
    "HeadTitle (name)": "Mrs",
    "HeadFirstName": "Jo",
    "HeadLastName": "Patel",
    "TelephoneNum": "01622 123456",
    "OfstedRating (name)": "Good",
    "OfstedLastInsp": "14-03-2023",
    "SEN1 (name)": "ASD - Autistic Spectrum Disorder",
    "SEN2 (name)": "SLCN - Speech, language and Communication",
    "SEN3 (name)": "SpLD - Specific Learning Difficulty",
    "SEN4 (name)": "",
}


def parsed(**changes: str) -> gias.GiasRow:
    return gias.parse_gias_row({**ROW, **changes}, TODAY)


def test_a_good_row_becomes_a_clean_draft_and_inspection() -> None:
    result = parsed()
    assert result.accepted and result.reasons == ()
    draft = result.draft
    assert draft is not None
    assert draft.urn == 118946
    assert draft.name == "Oakfield House School"
    assert draft.proprietor == "Kestrel Education Ltd"
    assert draft.provider_type is ProviderType.INDEPENDENT_SPECIAL_SCHOOL
    assert draft.section_41_approved
    assert (draft.age_low, draft.age_high) == (7, 19)
    assert draft.gender_intake is GenderIntake.MIXED
    assert draft.attendance == {Attendance.DAY, Attendance.RESIDENTIAL_38}
    assert (draft.capacity, draft.places_in_use) == (64, 58)
    assert draft.need_types == {NeedType.ASD, NeedType.SLCN, NeedType.SPLD}
    assert draft.postcode == "ME14 2AA"
    assert draft.address == "Boxley Road, Penenden Heath, Maidstone, Kent"
    assert (draft.local_authority_code, draft.local_authority_name) == ("886", "Kent")
    assert draft.contacts[0].name == "Mrs Jo Patel"
    assert draft.contacts[0].role == "headteacher"
    # Easting/Northing converted: Penenden Heath, Maidstone.
    assert draft.location is not None
    assert distance_km(draft.location, Point(51.2863, 0.5326)) < 0.5
    assert result.inspection is not None
    assert result.inspection.overall is OfstedJudgement.GOOD
    assert result.inspection.inspected_on == date(2023, 3, 14)


def test_unsuffixed_lower_case_and_bom_column_names_are_accepted() -> None:
    plain = {
        key.replace(" (name)", "").lower() if key != "URN" else "\ufeffURN": value
        for key, value in ROW.items()
    }
    plain["LA (code)"] = "886"
    result = gias.parse_gias_row(plain, TODAY)
    assert result.accepted
    assert result.draft == parsed().draft
    assert result.inspection == parsed().inspection


def test_unsuffixed_la_holding_a_name_is_read_as_the_name() -> None:
    row = {k: v for k, v in ROW.items() if not k.startswith("LA ")} | {"LA": "Kent"}
    draft = gias.parse_gias_row(row, TODAY).draft
    assert draft is not None
    assert (draft.local_authority_code, draft.local_authority_name) == (None, "Kent")


@pytest.mark.parametrize(
    ("type_name", "section_41", "expected"),
    [
        (
            "Non-maintained special school",
            "Not approved",
            ProviderType.NON_MAINTAINED_SPECIAL_SCHOOL,
        ),
        ("Other independent school", "Approved", ProviderType.SECTION_41_APPROVED),
        ("Special post 16 institution", "Approved", ProviderType.SECTION_41_APPROVED),
        (
            "Other independent special school",
            "Not approved",
            ProviderType.INDEPENDENT_SPECIAL_SCHOOL,
        ),
    ],
)
def test_establishment_types_that_are_nmiss(
    type_name: str, section_41: str, expected: ProviderType
) -> None:
    draft = parsed(
        **{"TypeOfEstablishment (name)": type_name, "Section41Approved (name)": section_41}
    ).draft
    assert draft is not None
    assert draft.provider_type is expected
    assert draft.section_41_approved == (section_41 == "Approved")


@pytest.mark.parametrize(
    "type_name", ["Community school", "Academy special converter", "Other independent school"]
)
def test_other_establishment_types_are_rejected(type_name: str) -> None:
    result = parsed(
        **{"TypeOfEstablishment (name)": type_name, "Section41Approved (name)": "Not approved"}
    )
    assert not result.accepted
    assert [reason.field for reason in result.reasons] == ["TypeOfEstablishment (name)"]
    assert type_name in result.reasons[0].rule


def test_every_reason_is_reported_naming_the_gias_column() -> None:
    result = parsed(
        URN="12",
        StatutoryLowAge="x",
        Postcode="nowhere",
        **{
            "EstablishmentStatus (name)": "Closed",
            "Gender (name)": "Not applicable",
            "OfstedLastInsp": "yesterday",
        },
    )
    assert result.draft is None and result.inspection is None
    assert {reason.field for reason in result.reasons} == {
        "URN",
        "Postcode",
        "StatutoryLowAge",
        "EstablishmentStatus (name)",
        "Gender (name)",
        "OfstedLastInsp",
    }
    # Domain rules are reported too once the columns themselves read cleanly.
    result = parsed(URN="12", Postcode="nowhere", NumberOfPupils="65")
    assert set(result.reasons) == {
        DomainError("URN", "must be 6 digits, 100000-999999"),
        DomainError("Postcode", "must be a UK postcode, e.g. ME14 1XX"),
        DomainError("NumberOfPupils", "must not exceed capacity"),
    }
    assert result.urn == "12"


def test_a_school_for_over_25s_is_rejected() -> None:
    result = parsed(StatutoryHighAge="99")
    assert result.reasons == (
        DomainError("StatutoryHighAge", "must be a whole number of years, 0-25"),
    )


@pytest.mark.parametrize(
    ("boarders", "attendance"),
    [
        ("No boarders", {Attendance.DAY}),
        ("", {Attendance.DAY}),
        ("Has boarders", {Attendance.DAY, Attendance.RESIDENTIAL_38}),
        ("Children's home (Boarding school)", set(Attendance)),
    ],
)
def test_boarding_maps_to_attendance(boarders: str, attendance: set[Attendance]) -> None:
    draft = parsed(**{"Boarders (name)": boarders}).draft
    assert draft is not None and draft.attendance == attendance


def test_sen_provision_codes_map_to_need_types() -> None:
    labels = [
        "SEMH - Social, Emotional and Mental Health",
        "MLD - Moderate Learning Difficulty",
        "SLD - Severe Learning Difficulty",
        "PMLD - Profound and Multiple Learning Difficulty",
        "HI - Hearing Impairment",
        "VI - Visual Impairment",
        "MSI - Multi-Sensory Impairment",
        "PD - Physical Disability",
        "OTH - Other Difficulty/Disability",
        "BESD - Behaviour, Emotional and Social Difficulties",
        "XYZ - Something new",
    ]
    row = ROW | {f"SEN{n} (name)": "" for n in range(1, 14)}
    row |= {f"SEN{n} (name)": label for n, label in enumerate(labels, start=1)}
    result = gias.parse_gias_row(row, TODAY)
    assert result.draft is not None
    assert result.draft.need_types == {
        NeedType.SEMH,
        NeedType.MLD,
        NeedType.SLD,
        NeedType.PMLD,
        NeedType.HI,
        NeedType.VI,
        NeedType.MSI,
        NeedType.PD,
        NeedType.OTH,
    }
    assert any("XYZ" in warning for warning in result.warnings)


def test_a_school_without_sen_provision_is_rejected() -> None:
    row = ROW | {f"SEN{n} (name)": "" for n in range(1, 14)}
    assert gias.parse_gias_row(row, TODAY).reasons == (
        DomainError("SEN1 (name)", "must name at least one need type"),
    )


@pytest.mark.parametrize(
    ("rating", "overall", "standards_met"),
    [
        ("Outstanding", OfstedJudgement.OUTSTANDING, None),
        ("Requires improvement", OfstedJudgement.REQUIRES_IMPROVEMENT, None),
        ("Special Measures", OfstedJudgement.INADEQUATE, None),
        ("Serious Weaknesses", OfstedJudgement.INADEQUATE, None),
        ("Met", None, True),
        ("Not met", None, False),
    ],
)
def test_ofsted_ratings_become_inspections(
    rating: str, overall: OfstedJudgement | None, standards_met: bool | None
) -> None:
    inspection = parsed(**{"OfstedRating (name)": rating}).inspection
    assert inspection is not None
    assert (inspection.overall, inspection.standards_met) == (overall, standards_met)


def test_no_rating_means_no_inspection() -> None:
    result = parsed(**{"OfstedRating (name)": "", "OfstedLastInsp": ""})
    assert result.accepted and result.inspection is None


def test_an_inspection_in_the_future_is_refused() -> None:
    result = parsed(OfstedLastInsp="02-09-2025")
    assert result.reasons == (DomainError("OfstedLastInsp", "must not be in the future"),)


def test_without_grid_reference_the_injected_lookup_places_the_school() -> None:
    asked: list[str] = []

    def locate(postcode: str) -> Point | None:
        asked.append(postcode)
        return Point(51.28, 0.54)

    result = gias.parse_gias_row(ROW | {"Easting": "", "Northing": "0"}, TODAY, locate)
    assert result.draft is not None and result.draft.location == Point(51.28, 0.54)
    assert asked == ["me14 2aa"]
    assert any("centroid" in warning for warning in result.warnings)
    unlocated = gias.parse_gias_row(ROW | {"Easting": "", "Northing": ""}, TODAY)
    assert unlocated.draft is not None and unlocated.draft.location is None


def test_a_garbled_grid_reference_is_rejected() -> None:
    assert [r.field for r in parsed(Easting="57x100").reasons] == ["Easting"]


def test_nmss_without_proprietor_is_proprietor_of_itself() -> None:
    draft = parsed(PropsName="").draft
    assert draft is not None and draft.proprietor == "Oakfield House School"


def test_a_bad_head_phone_number_drops_the_contact_not_the_school() -> None:
    result = parsed(TelephoneNum="12")
    assert result.draft is not None and result.draft.contacts == ()
    assert any("contact" in warning for warning in result.warnings)


# --- the synthetic extract ------------------------------------------------------------


def test_generator_is_deterministic_for_a_seed() -> None:
    assert gias.generate_extract(30, seed=5, bad_every=4) == gias.generate_extract(
        30, seed=5, bad_every=4
    )
    assert gias.generate_extract(30, seed=5) != gias.generate_extract(30, seed=6)


def test_generated_rows_have_unique_urns_and_every_gias_column() -> None:
    rows = gias.generate_extract(200, seed=1)
    assert len(rows) == 200
    assert len({row["URN"] for row in rows}) == 200
    assert all(list(row) == list(gias.GIAS_COLUMNS) for row in rows)


def test_bad_rows_are_rejected_for_their_defect_and_the_rest_accepted() -> None:
    rows = gias.generate_extract(90, seed=11, bad_every=5)
    results = gias.parse_extract(rows, TODAY)
    expected_column = {
        "urn_not_6_digits": "URN",
        "ages_reversed": "StatutoryHighAge",
        "closed": "EstablishmentStatus (name)",
        "bad_postcode": "Postcode",
        "no_sen_provision": "SEN1 (name)",
        "mainstream_type": "TypeOfEstablishment (name)",
        "over_capacity": "NumberOfPupils",
        "bad_inspection_date": "OfstedLastInsp",
        "gender_not_applicable": "Gender (name)",
    }
    kinds_seen = set()
    for index, result in enumerate(results):
        kind = gias.bad_row_kind(index, 5)
        if kind is None:
            assert result.accepted, (index, result.reasons)
        else:
            kinds_seen.add(kind)
            assert [reason.field for reason in result.reasons] == [expected_column[kind]]
    assert kinds_seen == set(gias.BAD_ROW_KINDS)
    assert sum(not result.accepted for result in results) == 90 // 5


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_any_seed_without_bad_rows_imports_cleanly(seed: int) -> None:
    rows = gias.generate_extract(20, seed=seed, bad_every=None)
    assert all(result.accepted for result in gias.parse_extract(rows, TODAY))


def test_generated_schools_sit_near_their_postcode_district() -> None:
    for row, result in zip(
        gias.generate_extract(40, seed=3),
        gias.parse_extract(gias.generate_extract(40, seed=3), TODAY),
        strict=True,
    ):
        district = row["Postcode"].split()[0]
        easting, northing = next((e, n) for d, e, n, *_ in gias._PLACES if d == district)
        assert abs(int(row["Easting"]) - easting) <= 2000
        assert abs(int(row["Northing"]) - northing) <= 2000
        assert result.draft is not None and result.draft.location is not None


def test_csv_round_trip() -> None:
    rows = gias.generate_extract(25, seed=9, bad_every=3)
    text = gias.write_extract_csv(rows)
    assert text.splitlines()[0].startswith("URN,LA (code),LA (name),EstablishmentName")
    assert gias.read_extract_csv(text) == rows
    assert gias.read_extract_csv("\ufeff" + text) == rows  # as Excel saves it


def test_csv_writer_keeps_extra_columns() -> None:
    text = gias.write_extract_csv([{"URN": "100001", "Notes": "hello, world"}])
    (row,) = gias.read_extract_csv(text)
    assert row["Notes"] == "hello, world"
    assert row["EstablishmentName"] == ""


# --- closing establishments (issue 12) ------------------------------------------------


@pytest.mark.parametrize(
    ("status", "accepted", "closure"),
    [
        ("Open", True, None),
        ("Open, but proposed to close", True, gias.EstablishmentClosure.PROPOSED_TO_CLOSE),
        ("Closed", False, gias.EstablishmentClosure.CLOSED),
        ("closed", False, gias.EstablishmentClosure.CLOSED),
        ("Proposed to open", False, None),
    ],
)
def test_establishment_status_says_whether_the_school_is_closing(
    status: str, accepted: bool, closure: gias.EstablishmentClosure | None
) -> None:
    result = parsed(**{"EstablishmentStatus (name)": status})
    assert (result.accepted, result.closure, result.urn) == (accepted, closure, "118946")
    if not accepted:  # a closed school is never registered, but its URN still closes it
        assert [reason.field for reason in result.reasons] == ["EstablishmentStatus (name)"]
