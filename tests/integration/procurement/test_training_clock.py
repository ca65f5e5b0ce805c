"""The training clock (`dps up --training`, `dps clock advance`) on the real Temporal dev
server with time skipping and the real procurement service: a call-off whose tender
deadline is ten days away is evaluable a few seconds later, and one opened after the
advance agrees with the services' clock. A server per test: advancing "everything" moves
every running workflow on it, and an earlier test's workflows have no worker any more."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from services.procurement.models import CompetitionRow
from shared import clock, training
from tests.harness import eventually, make_runtime, time_skipping_server
from tests.service.procurement.conftest import Driver

pytestmark = pytest.mark.integration


@pytest.fixture
async def server() -> AsyncIterator[str]:
    env = await time_skipping_server(skips_on_its_own=False)
    yield env.client.service_client.config.target_host
    await env.shutdown()


@pytest.fixture
async def proc(
    database_url: Callable[[str], str], tmp_path: Path, server: str
) -> AsyncIterator[Driver]:
    training.start_training(tmp_path)  # what `dps up --training` does
    broker = KafkaBroker()
    runtime = make_runtime(
        "procurement",
        database_url("procurement"),
        tmp_path,
        shared_broker=broker,
        temporal=server,
        training=True,
    )
    async with TestKafkaBroker(broker):
        await runtime.start()
        yield Driver(runtime, broker)
        await runtime.stop()
    clock.configure(training=False, production=False, data_dir=tmp_path)


async def _status(proc: Driver, competition_id: str) -> str:
    async with proc.runtime.db.session() as session:
        row = await session.get(CompetitionRow, competition_id)
    assert row is not None
    return row.status


async def _status_is(proc: Driver, competition_id: str, wanted: str) -> bool:
    return await _status(proc, competition_id) == wanted


async def test_advancing_makes_a_call_off_evaluable_and_new_ones_agree(
    proc: Driver, tmp_path: Path
) -> None:
    assert proc.runtime.temporal is not None
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1", score=90)
    await proc.admit(scheme_id, "p-2", score=60)
    r = await proc.open(scheme_id)
    assert r.status_code == 201, r.text
    competition_id = r.json()["competition_id"]
    assert (await proc.bid(competition_id, "p-1", fee="1700.00")).status_code == 201
    assert (await proc.bid(competition_id, "p-2", fee="1600.00")).status_code == 201
    # The tender floor: nobody may evaluate before the deadline (equal treatment).
    assert (await proc.evaluate(competition_id)).status_code == 409

    deadline = datetime.fromisoformat(r.json()["deadline_at"])
    step = deadline - datetime.now(UTC) + timedelta(hours=1)
    result = await training.advance(proc.runtime.temporal, tmp_path, step)

    assert f"competition-{competition_id}" in result.moved and not result.failed
    assert clock.read_offset(tmp_path) == step and clock.now() > deadline
    await eventually(lambda: _status_is(proc, competition_id, "evaluation"))
    scored = await proc.score_and_evaluate(competition_id, {"p-1": 9, "p-2": 4})
    assert scored.status_code == 200, scored.text

    # Opened on the training calendar: its deadline is checked against the training
    # clock, and its workflow starts that far ahead, so one more advance closes it.
    later = clock.now() + timedelta(days=10, minutes=5)
    r = await proc.open(scheme_id, deadline_at=later.isoformat())
    assert r.status_code == 201, r.text
    second = r.json()["competition_id"]
    assert (await proc.bid(second, "p-1", fee="1700.00")).status_code == 201
    await training.advance(proc.runtime.temporal, tmp_path, timedelta(days=10, minutes=30))
    await eventually(lambda: _status_is(proc, second, "evaluation"))


async def test_one_workflow_moves_alone(proc: Driver, tmp_path: Path) -> None:
    assert proc.runtime.temporal is not None
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1", score=90)
    r = await proc.open(scheme_id)
    competition_id = r.json()["competition_id"]
    assert (await proc.bid(competition_id, "p-1", fee="1700.00")).status_code == 201
    result = await training.advance(
        proc.runtime.temporal,
        tmp_path,
        timedelta(days=11),
        workflow_id=f"competition-{competition_id}",
    )
    assert result.moved == [f"competition-{competition_id}"]
    assert clock.read_offset(tmp_path) == timedelta(0)  # the services' clock stayed
    await eventually(lambda: _status_is(proc, competition_id, "evaluation"))


async def test_the_console_moves_the_clock(proc: Driver, tmp_path: Path, server: str) -> None:
    from tests.service.console.test_console import console, console_settings, sign_in

    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1", score=90)
    r = await proc.open(scheme_id)
    competition_id = r.json()["competition_id"]
    assert (await proc.bid(competition_id, "p-1", fee="1700.00")).status_code == 201
    settings = console_settings(tmp_path, training=True, temporal_address=server)
    async with console(settings) as client:
        token = await sign_in(client, "commissioner")
        moved = await client.post("/training", data={"days": "11", "csrf_token": token})
        assert (moved.status_code, moved.headers["location"]) == (303, "/training")
        text = (await client.get("/training")).text
        assert "The clock moved on 11 days" in text and "11.0 days ahead" in text
    assert clock.read_offset(tmp_path) == timedelta(days=11)
    await eventually(lambda: _status_is(proc, competition_id, "evaluation"))
