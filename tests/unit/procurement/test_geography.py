"""WGS84 -> British National Grid, and postcode district centroids (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.procurement.geography import district_centroid, wgs84_to_grid
from services.provider_registry.postcodes import bng_to_wgs84


@given(
    st.floats(min_value=100_000, max_value=650_000),
    st.floats(min_value=10_000, max_value=1_200_000),
)
def test_round_trip_with_the_registers_inverse_is_within_a_metre(e: float, n: float) -> None:
    point = bng_to_wgs84(e, n)
    grid = wgs84_to_grid(point.latitude, point.longitude)
    assert abs(grid.easting - e) < 1 and abs(grid.northing - n) < 1


def test_district_centroid_is_normalised_and_unknown_is_none() -> None:
    me14 = district_centroid(" me14 ")
    assert me14 is not None and 570_000 < me14.easting < 585_000
    assert district_centroid("ZZ99") is None
