"""Children's data across services: a need raised in placements reaches procurement as a
call-off that stores and publishes no child reference, date of birth or district
(UK GDPR Art. 5(1)(c) and 9), and distance screening still works from the coarse origin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlalchemy import select

from services.procurement.models import CompetitionRow, ProcurementModel
from shared.contracts.ehc_plans_v1 import age_on
from shared.envelope import decode_envelope
from shared.infra_models import infra_registry
from shared.runtime import ServiceRuntime
from tests.harness import eventually, make_runtime
from tests.service.placements.conftest import Placements
from tests.service.procurement.conftest import GLASGOW, TIERED, Driver

CHILD = "KCC-EHC-000777"
BORN = "2014-05-01"
DISTRICT = "ME15"  # the child's; the schools are in ME14 and Glasgow


@pytest.fixture
async def both(
    database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[tuple[Placements, Driver]]:
    broker = KafkaBroker()
    placements = make_runtime(
        "placements", database_url("placements"), tmp_path, shared_broker=broker
    )
    procurement = make_runtime(
        "procurement", database_url("procurement"), tmp_path, shared_broker=broker
    )
    async with TestKafkaBroker(broker):
        await placements.start()
        await procurement.start()
        yield Placements(placements, broker), Driver(procurement, broker)
        await procurement.stop()
        await placements.stop()


async def every_stored_text(runtime: ServiceRuntime, tables: list) -> str:
    """Every row of every table, outbox payloads included, as one text to search."""
    parts: list[str] = []
    async with runtime.db.session() as session:
        for table in tables:
            for row in (await session.execute(select(table))).all():
                parts.extend(
                    v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in row
                )
    return "\n".join(parts)


async def test_a_need_reaches_procurement_without_the_childs_identity(
    both: tuple[Placements, Driver],
) -> None:
    placements, proc = both
    scheme_id = await proc.scheme(**TIERED)
    await proc.admit(scheme_id, "p-near", score=80)
    await proc.register("p-far", latlon=GLASGOW)
    await proc.admit(scheme_id, "p-far", score=90, register=False)

    start = datetime.now(UTC).date() + timedelta(days=60)
    need_id = await placements.request_need(
        CHILD,
        date_of_birth=BORN,
        postcode_district=DISTRICT,
        max_distance_km=50,
        required_start=start.isoformat(),
    )
    competition_id = f"need-{need_id}"

    async def opened() -> bool:
        async with proc.runtime.db.session() as session:
            return await session.get(CompetitionRow, competition_id) is not None

    await eventually(opened)
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    # Distance screening still works from the coarse origin: Glasgow is ~550 km away.
    assert [i["provider_id"] for i in body["invitations"]] == ["p-near"]
    assert body["spec"]["filter"]["min_age"] == age_on(date.fromisoformat(BORN), start)
    assert body["title"] == f"Individual placement: day, need {need_id}"

    tables = [*ProcurementModel.metadata.sorted_tables, *infra_registry.metadata.sorted_tables]
    stored = await every_stored_text(proc.runtime, tables)
    assert need_id in stored  # the scan sees the rows
    for value in (CHILD, BORN, DISTRICT):
        assert value not in stored
    raised = await placements.events("placement.need.raised")
    sent = raised[0].payload.decode()
    assert need_id in sent and all(v not in sent for v in (CHILD, BORN, DISTRICT))


async def test_a_phase_transfer_call_off_that_cannot_finish_in_time_raises_the_alert(
    both: tuple[Placements, Driver],
) -> None:
    placements, proc = both
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-near")
    today = datetime.now(UTC).date()
    soon = today + timedelta(days=12)  # too soon for a 10-day call-off and evaluation
    named_by = min(date(soon.year, 2, 15), soon)  # reg 18, or the start if earlier
    late = await placements.request_need(
        "KCC-EHC-000801", phase_transfer=True, required_start=soon.isoformat()
    )
    far = date(today.year + 2, 9, 1)  # named by 15 February: time enough
    easy = await placements.request_need(
        "KCC-EHC-000802", phase_transfer=True, required_start=far.isoformat()
    )

    async def both_opened() -> bool:
        async with proc.runtime.db.session() as session:
            found = [await session.get(CompetitionRow, f"need-{n}") for n in (late, easy)]
            return all(found)

    await eventually(both_opened)
    raised = await placements.events("placement.need.raised")
    deadlines = sorted(decode_envelope(r.payload).data["phase_transfer_deadline"] for r in raised)
    assert deadlines == sorted([named_by.isoformat(), date(far.year, 2, 15).isoformat()])
    [alert] = await proc.events("procurement.competition.deadline_at_risk")
    assert alert["need_ref"] == late and alert["statutory_deadline"] == named_by.isoformat()
    assert alert["expected_completion"] > alert["statutory_deadline"]
