"""placements.v1 ``placement.need.raised`` opens an individual-placement call-off."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.procurement.models import CompetitionRow
from shared.contracts import placements_v1
from tests.fixtures import today
from tests.service.procurement.conftest import GLASGOW, TIERED, Driver


def need(**overrides: object) -> placements_v1.PlacementNeedRaised:
    body: dict[str, object] = {
        "need_id": f"n-{uuid.uuid4().hex[:8]}",
        "la_code": "886",
        "primary_need": "ASD",
        # What placements sends: the age at the start and a coarse origin (not the
        # child's reference, date of birth or district).
        "age_at_start": 10,
        "attendance": "day",
        "search_origin": {"easting": 577500, "northing": 157500, "cell_m": 5000},  # ME14
        "required_start": (today() + timedelta(days=60)).isoformat(),
        "max_distance_km": 50,
    }
    body.update(overrides)
    return placements_v1.PlacementNeedRaised.model_validate(body)


async def raise_need(proc: Driver, payload: placements_v1.PlacementNeedRaised) -> None:
    await proc.publish(placements_v1.TOPIC, "placement.need.raised", payload.need_id, payload)


async def test_need_opens_a_call_off_for_the_eligible_members_of_the_top_tier(proc: Driver) -> None:
    scheme_id = await proc.scheme(**TIERED)
    await proc.admit(scheme_id, "p-high", score=80)
    await proc.admit(scheme_id, "p-low", score=40)
    await proc.register("p-far", latlon=GLASGOW)
    await proc.admit(scheme_id, "p-far", score=90, register=False)
    payload = need()
    await raise_need(proc, payload)
    await raise_need(proc, payload)  # redelivered under another id: opened once
    competition_id = f"need-{payload.need_id}"
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    assert body["status"] == "open" and body["kind"] == "individual"
    assert body["need_ref"] == payload.need_id and body["current_lot"] == "lot2"
    assert [i["provider_id"] for i in body["invitations"]] == ["p-high"]
    assert (
        body["spec"]["filter"]["min_age"] == 10 and body["spec"]["filter"]["max_distance_km"] == 50
    )
    assert await proc.count(CompetitionRow) == 1
    opened = (await proc.events("procurement.competition.opened"))[0]
    assert opened["opened_by"] == "dps/procurement/placements.v1"
    assert (await proc.bid(competition_id, "p-high")).status_code == 201


async def test_need_without_eligible_members_raises_the_alert(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-far", latlon=GLASGOW)
    await proc.admit(scheme_id, "p-far", register=False)
    await raise_need(proc, need())
    alert = (await proc.events("procurement.competition.no_eligible_members"))[0]
    assert alert["scheme_id"] == scheme_id and "km away" in alert["reasons"][0]


async def test_need_with_no_matching_category_raises_the_alert(proc: Driver) -> None:
    await proc.scheme()
    await raise_need(proc, need(primary_need="SEMH", attendance="residential_52"))
    alert = (await proc.events("procurement.competition.no_eligible_members"))[0]
    assert "no open scheme has a category for SEMH" in alert["reasons"][0]
    assert await proc.count(CompetitionRow) == 0
