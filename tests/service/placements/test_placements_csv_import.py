"""`dps import placements`: a council's existing placements from CSV, one row per
request to POST /placements/import with a key from the placement's identity: rejections
by line, a re-import (even of a corrected file) records nothing twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from dps import council_import
from services.placements.models import PlacementRow
from shared.contracts.common import Role
from tests.fixtures import today
from tests.harness import client_for
from tests.service.placements.conftest import Placements

HEADER = (
    "child_ref,provider_urn,primary_need,attendance,start_date,end_date,weekly_fee,"
    "weeks_per_year,notice_period_weeks,next_review_due,source"
)
REVIEW = (today() + timedelta(days=90)).isoformat()


def _csv(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def _poster(p: Placements, token: str) -> council_import.PostPlacement:
    loop = asyncio.get_running_loop()

    async def post(body: dict[str, Any]) -> tuple[int, Any]:
        async with client_for(p.runtime, token) as client:
            response = await client.post("/placements/import", json=body)
        return response.status_code, response.json()

    return lambda _key, body: asyncio.run_coroutine_threadsafe(post(body), loop).result()


async def _import(p: Placements, token: str, text: str) -> council_import.PlacementSummary:
    urns = {"100001": "p-1", "100002": "p-2"}
    return await asyncio.to_thread(council_import.import_placements, text, _poster(p, token), urns)


async def test_existing_placements_are_recorded_once_with_rejections_by_line(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    text = _csv(
        f"KCC-A-0001,100001,ASD,day,2022-09-05,,1800.00,38,12,{REVIEW},spot",
        f"KCC-A-0002,100002,SEMH,residential_52,2023-01-09,,5200.00,52,12,{REVIEW},spot",
        "KCC-A-0003,100001,ASD,day,2023-04-17,,1750.00,38,12,,spot",  # open, no review date
        f"KCC-A-0004,999999,ASD,day,2023-04-17,,1750.00,38,12,{REVIEW},spot",  # unknown URN
        "KCC-A-0005,100002,MLD,day,2019-09-02,2021-07-20,1500.00,38,12,,spot",  # ended
    )
    token = tokens[Role.COMMISSIONER]
    first = await _import(placements, token, text)
    assert (first.rows, first.imported, first.already) == (5, 3, 0)
    assert [r.line for r in first.rejected] == [4, 5]
    assert first.rejected[0].reasons == ["next_review_due: required_for_open_placement"]
    assert "999999 is not in the provider register" in first.rejected[1].reasons[0]
    assert await placements.count(PlacementRow) == 3

    corrected = text.replace("1800.00", "1850.00")  # a fee corrected in the re-export
    again = await _import(placements, token, corrected)
    assert (again.imported, again.already, len(again.rejected)) == (0, 3, 2)
    assert await placements.count(PlacementRow) == 3


async def test_the_dry_run_applies_the_apis_rules_and_records_nothing(
    placements: Placements,
) -> None:
    text = _csv(
        f"KCC-B-0001,100001,ASD,day,2022-09-05,,1800.00,38,12,{REVIEW},spot",
        "KCC-B-0002,100001,ASD,day,2023-04-17,,1750.00,38,12,,spot",
        f"KCC-B-0003,100001,XYZ,day,2023-04-17,,1750.00,38,12,{REVIEW},spot",
    )
    urns = {"100001": "p-1"}
    dry = council_import.import_placements(text, council_import.check_placement_locally, urns)
    assert (dry.imported, [r.line for r in dry.rejected]) == (1, [3, 4])
    assert dry.rejected[0].reasons == ["next_review_due: required_for_open_placement"]
    assert dry.rejected[1].reasons[0].startswith("primary_need:")
    assert await placements.count(PlacementRow) == 0
