"""Children's data: what a need tells procurement (UK GDPR Art. 5(1)(c)), the coarse
search origin and its error bound, and phase-transfer deadlines (SEND Regs 2014 reg 18)."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.placements import domain as d
from services.placements.events import need_raised_event
from shared import geography

from .factories import AT, request

# Half the diagonal of a 5 km cell: the most a distance from the cell centre can differ
# from one measured from the district centroid.
BOUND_KM = d.SEARCH_CELL_M * math.sqrt(2) / 2 / 1000


def test_need_raised_event_carries_no_child_reference_birth_date_or_district() -> None:
    event = need_raised_event(d.raise_need(request(), "need-1", AT))
    serialised = event.model_dump_json()
    for value in ("KCC-EHC-000123", "2014-05-01", "ME14"):
        assert value not in serialised
    assert event.age_at_start == 11 and event.year_group == 7


def test_search_origin_is_the_centre_of_the_5km_cell_holding_the_district_centroid() -> None:
    origin = d.search_origin("ME14")
    centroid = geography.district_grid("ME14")
    assert origin is not None and centroid is not None
    assert (origin.easting - 2500) % 5000 == 0 and (origin.northing - 2500) % 5000 == 0
    gap_km = math.dist((origin.easting, origin.northing), centroid) / 1000
    assert gap_km <= BOUND_KM
    assert d.search_origin("ZZ99") is None and d.search_origin(None) is None


@given(
    district=st.sampled_from(sorted(geography.district_table())),
    easting=st.floats(0, 700_000),
    northing=st.floats(0, 1_250_000),
)
def test_distance_from_the_search_origin_is_within_3_54_km_of_the_true_one(
    district: str, easting: float, northing: float
) -> None:
    origin = d.search_origin(district)
    centroid = geography.district_grid(district)
    assert origin is not None and centroid is not None
    school = (easting, northing)
    coarse_km = math.dist((origin.easting, origin.northing), school) / 1000
    true_km = math.dist(centroid, school) / 1000
    assert abs(coarse_km - true_km) <= BOUND_KM + 1e-9


@pytest.mark.parametrize(
    ("born", "on", "year_group"),
    [
        (date(2014, 5, 1), date(2026, 4, 20), 7),
        (date(2014, 9, 1), date(2025, 9, 3), 6),  # the oldest of their year
        (date(2014, 8, 31), date(2025, 9, 3), 7),  # the youngest of the year above
        (date(2021, 8, 31), date(2025, 9, 1), 0),  # reception
        (date(2009, 10, 1), date(2026, 9, 1), 12),
    ],
)
def test_year_group_follows_the_age_on_31_august(born: date, on: date, year_group: int) -> None:
    assert d.year_group_on(born, on) == year_group


@pytest.mark.parametrize(
    ("start", "year_group", "deadline"),
    [
        (date(2026, 9, 2), 7, date(2026, 2, 15)),  # primary to secondary
        (date(2026, 9, 2), 0, date(2026, 2, 15)),  # early years to school
        (date(2026, 9, 2), 12, date(2026, 3, 31)),  # secondary to post-16
        (date(2026, 9, 2), 13, date(2026, 4, 2)),  # between post-16: five months before
        (date(2026, 1, 5), 7, date(2026, 1, 5)),  # a January transfer: named before it starts
        (date(2026, 9, 2), None, date(2026, 2, 15)),  # no year group: the earliest day
    ],
)
def test_phase_transfer_deadline_per_reg_18(
    start: date, year_group: int | None, deadline: date
) -> None:
    assert d.phase_transfer_deadline(start, year_group) == deadline


def test_a_phase_transfer_need_carries_its_deadline_to_procurement() -> None:
    transfer = request(phase_transfer=True, date_of_birth="2015-03-01", required_start="2026-09-02")
    need = d.raise_need(transfer, "need-1", AT)
    assert need.year_group_at_start == 7
    assert need.phase_transfer_deadline == date(2026, 2, 15)
    assert need_raised_event(need).phase_transfer_deadline == date(2026, 2, 15)
    assert d.raise_need(request(), "need-2", AT).phase_transfer_deadline is None


def test_year_group_sent_by_the_council_is_used_without_a_birth_date() -> None:
    post16 = request(
        phase_transfer=True, date_of_birth=None, year_group=12, required_start="2026-09-07"
    )
    need = d.raise_need(post16, "need-1", AT)
    assert need.phase_transfer_deadline == date(2026, 3, 31)
    assert need_raised_event(need).age_at_start is None
