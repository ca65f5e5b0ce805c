"""A call-off opened from a placement need: no child data in what procurement keeps or
publishes (UK GDPR Art. 5(1)(c), 9), even from an older event that still carries it."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from services.procurement import domain as d
from services.procurement.commands import needs
from shared import geography
from shared.contracts import placements_v1
from tests.unit.procurement.builders import scheme

OLDER_EVENT = {  # as placements published it before: child reference, birth date, district
    "need_id": "6d1c0b8e-0000-5000-8000-000000000001",
    "child_ref": "KCC-EHC-000123",
    "la_code": "886",
    "primary_need": "ASD",
    "date_of_birth": "2014-05-01",
    "attendance": "day",
    "postcode_district": "ME14",
    "required_start": "2026-04-20",
    "max_distance_km": 50,
}


def test_title_names_neither_child_nor_need_and_birth_date_is_ignored() -> None:
    need = placements_v1.PlacementNeedRaised.model_validate(OLDER_EVENT)
    title = needs.need_title(need)
    assert title == "Individual placement: day, need 6d1c0b8e-0000-5000-8000-000000000001"
    assert "KCC" not in title and "ASD" not in title
    assert needs.need_age(need) is None  # no age_at_start: not derived from the DOB
    assert needs.need_origin(need) is None  # the district is ignored


def test_distance_is_measured_from_the_coarse_origin_placements_sends() -> None:
    origin = placements_v1.SearchOrigin(easting=577500, northing=157500)
    need = placements_v1.PlacementNeedRaised.model_validate(
        {**OLDER_EVENT, "child_ref": None, "date_of_birth": None, "postcode_district": None}
        | {"search_origin": origin.model_dump(), "age_at_start": 11}
    )
    point = needs.need_origin(need)
    assert point is not None and (point.easting, point.northing) == (577500.0, 157500.0)
    centroid = geography.district_grid("ME14")
    assert centroid is not None
    assert math.dist(centroid, (577500, 157500)) <= 5000 * math.sqrt(2) / 2
    assert needs.need_age(need) == 11
    assert need.required_start == date(2026, 4, 20)


# --- phase transfers: the call-off timetable against SEND Regs 2014 reg 18 ----------------


def test_call_off_that_ends_after_the_naming_day_is_at_risk() -> None:
    closes = datetime(2026, 2, 2, 12, tzinfo=UTC)  # a Monday
    # 5 working days' evaluation: Monday 9 February.
    plain = d.check_call_off_timetable(scheme(), closes, date(2026, 2, 15))
    assert plain.expected_completion == date(2026, 2, 9) and not plain.at_risk
    # With a 10-day standstill the contract can only be made on 19 February.
    standstill = d.check_call_off_timetable(
        scheme(voluntary_standstill=True), closes, date(2026, 2, 15)
    )
    assert standstill.expected_completion == date(2026, 2, 19) and standstill.at_risk
    assert "2026-02-15" in standstill.reason and "standstill" in standstill.reason
    on_the_day = d.check_call_off_timetable(scheme(), closes, date(2026, 2, 9))
    assert not on_the_day.at_risk
