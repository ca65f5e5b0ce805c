"""The 10/15-working-day evaluation clock and the tender deadline on the real Temporal
dev server, with time skipping: weeks of workflow time pass in seconds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from services.procurement.models import ApplicationRow, CompetitionRow
from services.procurement.workflows import WORKFLOWS
from shared.contracts.common import Role
from tests.harness import eventually, make_runtime
from tests.service.procurement.conftest import Driver

pytestmark = pytest.mark.integration


@pytest.fixture
async def proc(
    database_url: Callable[[str], str], tmp_path: Path, time_skipping: WorkflowEnvironment
) -> AsyncIterator[Driver]:
    broker = KafkaBroker()
    runtime = make_runtime(
        "procurement", database_url("procurement"), tmp_path, shared_broker=broker
    )
    runtime.temporal = time_skipping.client  # worker and workflow starts on the skipping server
    async with TestKafkaBroker(broker):
        await runtime.start()
        yield Driver(runtime, broker)
        await runtime.stop()


async def application(proc: Driver, application_id: str) -> ApplicationRow:
    async with proc.runtime.db.session() as session:
        row = await session.get(ApplicationRow, application_id)
    assert row is not None
    return row


async def skip_to(env: WorkflowEnvironment, handle: WorkflowHandle, at: datetime) -> None:  # type: ignore[type-arg]
    now = await env.get_current_time(handle)
    assert await env.fast_forward(handle, at - now)


async def test_ten_working_day_clock_reminds_on_day_7_and_escalates(
    proc: Driver, time_skipping: WorkflowEnvironment
) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    row = await application(proc, application_id)
    assert 12 <= (row.due_at - row.submitted_at).days <= 20  # 10 working days
    handle = time_skipping.client.get_workflow_handle(f"application-{application_id}")

    await skip_to(time_skipping, handle, row.reminder_at + timedelta(hours=1))
    await eventually(lambda: _reminded(proc, application_id))
    assert await proc.events("procurement.application.overdue") == []
    [reminder] = await proc.events("procurement.application.reminder_due")
    assert reminder["evaluation_due_on"] == row.due_on.isoformat()

    await skip_to(time_skipping, handle, row.due_at + timedelta(hours=1))
    await eventually(lambda: _has(proc, "procurement.application.overdue"))
    overdue = (await proc.events("procurement.application.overdue"))[0]
    assert overdue["evaluation_due_on"] == row.due_on.isoformat() and overdue["extended"] is False

    # The decision is dated by the wall clock (weeks did not really pass); it ends the clock.
    assert (await proc.decide(application_id)).status_code == 200
    assert await handle.result() == "decided"
    await replay(handle)


async def test_extension_moves_the_clock_to_15_working_days(
    proc: Driver, time_skipping: WorkflowEnvironment
) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    first = await application(proc, application_id)
    async with proc.client() as c:
        r = await c.post(f"/applications/{application_id}/extension", json={"reason": "site visit"})
    assert r.status_code == 200
    extended = await application(proc, application_id)
    assert extended.due_at > first.due_at and extended.evaluation_working_days == 15
    handle = time_skipping.client.get_workflow_handle(f"application-{application_id}")

    await skip_to(time_skipping, handle, first.due_at + timedelta(hours=1))
    assert await proc.events("procurement.application.overdue") == []
    assert (await application(proc, application_id)).reminded_at is None  # day 12 not reached

    await skip_to(time_skipping, handle, extended.due_at + timedelta(hours=1))
    await eventually(lambda: _has(proc, "procurement.application.overdue"))
    overdue = (await proc.events("procurement.application.overdue"))[0]
    assert (
        overdue["extended"] is True and overdue["evaluation_due_on"] == extended.due_on.isoformat()
    )
    assert (await application(proc, application_id)).reminded_at is not None
    await proc.decide(application_id)
    assert await handle.result() == "decided"


async def test_decision_before_the_deadline_completes_the_clock_quietly(
    proc: Driver, time_skipping: WorkflowEnvironment
) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    handle = time_skipping.client.get_workflow_handle(f"application-{application_id}")
    await eventually(lambda: _running(handle))
    assert (await proc.decide(application_id)).status_code == 200
    assert await handle.result() == "decided"
    assert await proc.events("procurement.application.overdue") == []


async def test_tender_deadline_closes_and_evaluates_then_award_completes(
    proc: Driver, time_skipping: WorkflowEnvironment
) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1", score=90)
    await proc.admit(scheme_id, "p-2", score=60)
    r = await proc.open(scheme_id)
    assert r.status_code == 201, r.text
    competition_id = r.json()["competition_id"]
    assert (await proc.bid(competition_id, "p-1", fee="1700.00")).status_code == 201
    assert (await proc.bid(competition_id, "p-2", fee="1600.00")).status_code == 201
    handle = time_skipping.client.get_workflow_handle(f"competition-{competition_id}")
    deadline = datetime.fromisoformat(r.json()["deadline_at"])

    await skip_to(time_skipping, handle, deadline - timedelta(hours=1))
    assert await _status(proc, competition_id) == "open"
    await skip_to(time_skipping, handle, deadline + timedelta(minutes=1))
    # Quality questions: closed at the deadline, then waits for the evaluators' scores.
    await eventually(lambda: _status_is(proc, competition_id, "evaluation"))
    # Days pass while evaluators work; the workflow's daily re-check keeps waiting.
    await skip_to(time_skipping, handle, deadline + timedelta(days=3))
    assert await _status(proc, competition_id) == "evaluation"
    r = await proc.score_and_evaluate(competition_id, {"p-1": 9, "p-2": 4})
    assert r.status_code == 200, r.text
    ranking = r.json()["evaluation"]["ranking"]
    assert [x["provider_id"] for x in ranking] == ["p-1", "p-2"]

    assert (await proc.award(competition_id)).status_code == 200
    assert await handle.result() == "awarded"
    await replay(handle)


async def test_price_only_call_off_is_evaluated_by_the_deadline_timer(
    proc: Driver, time_skipping: WorkflowEnvironment
) -> None:
    price_only = {"quality_weight": 0, "price_weight": 100, "quality_questions": []}
    scheme_id = await proc.scheme(award_criteria=price_only)  # the scheme published price only
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    r = await proc.open(scheme_id, quality_weight=0, price_weight=100, quality_questions=[])
    assert r.status_code == 201, r.text
    competition_id = r.json()["competition_id"]
    for provider_id, fee in (("p-1", "1700.00"), ("p-2", "1600.00")):
        assert (await proc.bid(competition_id, provider_id, fee=fee, answers={})).status_code == 201
    handle = time_skipping.client.get_workflow_handle(f"competition-{competition_id}")
    deadline = datetime.fromisoformat(r.json()["deadline_at"])
    await skip_to(time_skipping, handle, deadline + timedelta(minutes=1))
    await eventually(lambda: _status_is(proc, competition_id, "evaluated"))
    ranking = (await proc.get(f"/competitions/{competition_id}")).json()["evaluation"]["ranking"]
    assert [x["provider_id"] for x in ranking] == ["p-2", "p-1"]
    assert (await proc.award(competition_id)).status_code == 200
    assert await handle.result() == "awarded"
    await replay(handle)


async def test_on_start_sweep_starts_a_workflow_lost_in_a_crash(
    proc: Driver, time_skipping: WorkflowEnvironment
) -> None:
    from services.procurement.clocks import start_missing_workflows

    scheme_id = await proc.scheme()
    await proc.register("p-1")
    temporal, proc.runtime.temporal = proc.runtime.temporal, None  # the start is "lost"
    application_id = await proc.apply(scheme_id, "p-1")
    proc.runtime.temporal = temporal
    handle = time_skipping.client.get_workflow_handle(f"application-{application_id}")
    assert not await _running(handle)
    await start_missing_workflows(proc.runtime)
    await start_missing_workflows(proc.runtime)  # idempotent
    assert await _running(handle)
    await proc.decide(application_id)
    assert await handle.result() == "decided"


async def test_renewed_self_declaration_clock_alerts_after_five_working_days(
    proc: Driver, time_skipping: WorkflowEnvironment
) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    made = {}
    async with proc.client() as c:
        for pid in ("p-1", "p-2"):
            r = await c.post(f"/schemes/{scheme_id}/members/{pid}/self-declarations", json={})
            assert r.status_code == 201, r.text
            made[pid] = r.json()
    answered = time_skipping.client.get_workflow_handle(
        f"self-declaration-{made['p-1']['request_id']}"
    )
    async with proc.client(Role.PROVIDER, "p-1") as c:
        r = await c.post(
            f"/self-declarations/{made['p-1']['request_id']}/answer",
            json={"declaration": {"exclusion_grounds": "none apply"}},
        )
        assert r.status_code == 200, r.text
    assert await answered.result() == "answered"
    late = time_skipping.client.get_workflow_handle(f"self-declaration-{made['p-2']['request_id']}")
    due_at = datetime.fromisoformat(made["p-2"]["due_at"])
    await skip_to(time_skipping, late, due_at - timedelta(hours=1))
    assert await proc.events("procurement.self_declaration.overdue") == []
    # The workflow ends with the alert, so this fast-forward sees it terminate first.
    await time_skipping.fast_forward(late, timedelta(hours=1, minutes=1))
    assert await late.result() == "overdue"
    [overdue] = await proc.events("procurement.self_declaration.overdue")
    assert overdue["provider_id"] == "p-2" and overdue["due_on"] == made["p-2"]["due_on"]
    await replay(late)


async def replay(handle: WorkflowHandle) -> None:  # type: ignore[type-arg]
    """The recorded history replays on today's workflow code (determinism check)."""
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(await handle.fetch_history())


async def _running(handle: WorkflowHandle) -> bool:  # type: ignore[type-arg]
    try:
        await handle.describe()
    except Exception:
        return False
    return True


async def _reminded(proc: Driver, application_id: str) -> bool:
    return (await application(proc, application_id)).reminded_at is not None


async def _has(proc: Driver, event_type: str) -> bool:
    return bool(await proc.events(event_type))


async def _status(proc: Driver, competition_id: str) -> str:
    async with proc.runtime.db.session() as session:
        row = await session.get(CompetitionRow, competition_id)
    assert row is not None
    return row.status


async def _status_is(proc: Driver, competition_id: str, status: str) -> bool:
    return await _status(proc, competition_id) == status
