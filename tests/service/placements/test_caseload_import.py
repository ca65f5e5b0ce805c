"""`dps import caseload`: a council's caseload export becomes ehc.plans.v1 events sent
through the HTTP ingest; rows are reported by line, a re-import is all duplicates, and
placements applies the plans through its consumer."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

from sqlmodel import col

from dps import council_import
from services.placements.models import ChildPlanRow
from shared.contracts.common import Role
from shared.infra_models import OutboxMessage
from tests.harness import client_for, eventually
from tests.service.placements.conftest import Placements


def _sender(p: Placements, token: str) -> council_import.Send:
    """The CLI's sender, over the service's ASGI app, callable from the import's thread."""
    loop = asyncio.get_running_loop()

    async def post(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        async with client_for(p.runtime, token) as client:
            response = await client.post(
                "/ehc-events",
                content=json.dumps(events),
                headers={"Content-Type": "application/cloudevents-batch+json"},
            )
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    return lambda events: asyncio.run_coroutine_threadsafe(post(events), loop).result()


async def _import(p: Placements, token: str, text: str) -> council_import.CaseloadSummary:
    send = _sender(p, token)
    return await asyncio.to_thread(council_import.import_caseload, text, send)


async def test_a_caseload_is_imported_applied_and_re_imported_as_duplicates(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    text = council_import.example_caseload(600, seed=3, bad_every=100)
    token = tokens[Role.COUNCIL_SYSTEM]
    first = await _import(placements, token, text)
    assert (first.rows, first.accepted, first.duplicate) == (600, 594, 0)
    assert [r.line for r in first.rejected] == [101, 201, 301, 401, 501, 601]
    assert "data.postcode_district" in first.rejected[0].reasons[0]

    async def applied() -> bool:
        return await placements.count(ChildPlanRow) == 594

    await eventually(applied, within=60)
    assert await placements.dead_letters() == []
    reviewed = [r for r in csv.DictReader(io.StringIO(text)) if r["last_review_on"]]
    assert reviewed, "the example has rows with a last review"
    async with placements.runtime.db.session() as session:
        row = await session.get(ChildPlanRow, reviewed[0]["child_ref"])
    assert row is not None and row.last_reviewed_on is not None
    assert row.last_reviewed_on.isoformat() == reviewed[0]["last_review_on"]

    written = await placements.count(OutboxMessage, col(OutboxMessage.topic) == "ehc.plans.v1")
    again = await _import(placements, token, text)
    assert (again.accepted, again.duplicate, len(again.rejected)) == (0, 594, 6)
    assert await placements.count(OutboxMessage, col(OutboxMessage.topic) == "ehc.plans.v1") == (
        written
    )


async def test_a_dry_run_reports_the_same_rows_and_writes_nothing(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    text = council_import.example_caseload(120, seed=4, bad_every=40)
    dry = council_import.import_caseload(text, council_import.check_locally)
    real = await _import(placements, tokens[Role.COUNCIL_SYSTEM], text)
    assert [r.line for r in dry.rejected] == [r.line for r in real.rejected] == [41, 81, 121]
    assert [r.reasons for r in dry.rejected] == [r.reasons for r in real.rejected]
    assert dry.accepted == real.accepted == 117
