"""PlacementLifecycleWorkflow on the real Temporal dev server with time skipping: a year of
reminders, an overdue review, continue-as-new, a renewal request and the end, in seconds.
Then its recorded history is replayed against the current workflow code."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from services.placements import commands, domain
from services.placements.activities import BlockActivities, activities
from services.placements.models import PlacementRow, ReviewRow, load_placement, save_block
from services.placements.workflow_types import workflow_id
from services.placements.workflows import (
    WORKFLOWS,
    BlockContractRenewalWorkflow,
    BlockRenewalInput,
    LifecycleInput,
    PlacementLifecycleWorkflow,
)
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import ReviewOutcome
from shared.runtime import ServiceRuntime
from shared.temporal import pydantic_data_converter
from shared.unit_of_work import unit_of_work
from tests.harness import eventually
from tests.integration.placements.conftest import (
    HISTORIES,
    QUEUE,
    event_types,
    make_active_placement,
)

pytestmark = pytest.mark.integration


async def record_outcome(rt: ServiceRuntime, placement_id: str, review_id: str) -> None:
    async with unit_of_work(rt.db, rt.source) as uow:
        before = await load_placement(uow.session, placement_id)
        assert before is not None
        due = before.review(review_id).due_on
        after = domain.record_review_outcome(
            before, review_id, ReviewOutcome.CONTINUE, due, "commissioner:jo", datetime.now(UTC)
        )
        await commands.record_placement(uow, before, after)


async def test_a_year_of_reviews_passes_in_seconds_and_replays(
    env: WorkflowEnvironment, runtime: ServiceRuntime
) -> None:
    today = datetime.now(UTC).date()
    placement_id = await make_active_placement(runtime, today)
    async with Worker(
        env.client,
        task_queue=QUEUE,
        workflows=WORKFLOWS,
        activities=activities(runtime),
    ):
        handle = await env.client.start_workflow(
            PlacementLifecycleWorkflow.run,
            LifecycleInput(placement_id=placement_id),
            id=workflow_id(placement_id),
            task_queue=QUEUE,
        )
        first_run = handle.result_run_id
        await env.fast_forward(handle, timedelta(days=60))

        async def reminded_and_overdue() -> bool:
            types = await event_types(runtime, placement_id)
            return types.count("placement.review.due") == 2 and "placement.review.overdue" in types

        await eventually(reminded_and_overdue, within=60)

        # The commissioner records the outcome; the workflow is told and starts a new cycle.
        await record_outcome(runtime, placement_id, f"{placement_id}-R1")
        await handle.signal(PlacementLifecycleWorkflow.refresh)
        await env.fast_forward(handle, timedelta(days=400))
        result = await env.client.get_workflow_handle(handle.id).result()
        assert result == "ended"

    types = await event_types(runtime, placement_id)
    assert "placement.renewal.decision_requested" in types
    assert types[-1] in ("placement.contract.ended", "placement.spend.committed")
    assert "placement.contract.ended" in types
    async with runtime.db.session() as session:
        row = await session.get(PlacementRow, placement_id)
        reviews = (await session.exec(select(ReviewRow))).all()
    assert row is not None and row.status == "ended"
    assert [r.outcome for r in reviews] == ["continue"]  # R2 would fall after term end

    # Continue-as-new happened: the first run finished on its own.
    first = env.client.get_workflow_handle(handle.id, run_id=first_run)
    history = await first.fetch_history()
    assert any(
        e.HasField("workflow_execution_continued_as_new_event_attributes") for e in history.events
    )

    await Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter).replay_workflow(
        history
    )
    HISTORIES.mkdir(exist_ok=True)
    stored = HISTORIES / "lifecycle_first_cycle.json"
    if not stored.exists():  # recorded once; later code changes must still replay it
        stored.write_text(history.to_json())


async def test_recorded_histories_replay_on_current_code() -> None:
    # Recorded with earlier code and committed: each must still replay deterministically.
    assert (HISTORIES / "lifecycle_first_cycle.json").exists()
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    for path in sorted(HISTORIES.glob("*.json")):
        history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
        await replayer.replay_workflow(history)


async def test_moved_review_date_reschedules_reminders(
    env: WorkflowEnvironment, runtime: ServiceRuntime
) -> None:
    today = datetime.now(UTC).date()
    placement_id = await make_active_placement(runtime, today)
    async with Worker(
        env.client,
        task_queue=QUEUE,
        workflows=WORKFLOWS,
        activities=activities(runtime),
    ):
        handle = await env.client.start_workflow(
            PlacementLifecycleWorkflow.run,
            LifecycleInput(placement_id=placement_id),
            id=workflow_id(placement_id),
            task_queue=QUEUE,
        )
        # ehc.plan.reviewed moved the review 100 days later before any reminder was due.
        async with unit_of_work(runtime.db, runtime.source) as uow:
            before = await load_placement(uow.session, placement_id)
            assert before is not None
            after = domain.align_reviews_to_plan(before, today + timedelta(days=150))
            await commands.record_placement(uow, before, after)
        await handle.signal(PlacementLifecycleWorkflow.refresh)
        await env.fast_forward(handle, timedelta(days=60))
        await asyncio.sleep(1)
        assert "placement.review.due" not in await event_types(runtime, placement_id)
        await env.fast_forward(handle, timedelta(days=60))

        async def reminded() -> bool:
            return (await event_types(runtime, placement_id)).count("placement.review.due") == 1

        await eventually(reminded, within=30)
        await handle.terminate("test over")


async def test_block_contract_renewal_is_requested_before_term_end(
    env: WorkflowEnvironment, runtime: ServiceRuntime
) -> None:
    today = datetime.now(UTC).date()
    block = domain.new_block_contract(
        str(uuid.uuid4()),
        "p-3",
        NeedType.SEMH,
        Attendance.DAY,
        3,
        today - timedelta(days=100),
        today + timedelta(days=200),
        Decimal("1200.00"),
        12,
    )
    async with unit_of_work(runtime.db, runtime.source) as uow:
        await save_block(uow.session, block, "test")
    blocks = BlockActivities(runtime.db, runtime.source)
    async with Worker(
        env.client,
        task_queue=QUEUE,
        workflows=WORKFLOWS,
        activities=[blocks.block_snapshot, blocks.request_block_renewal],
    ):
        handle = await env.client.start_workflow(
            BlockContractRenewalWorkflow.run,
            BlockRenewalInput(block_contract_id=block.block_contract_id),
            id=f"block-contract-{block.block_contract_id}",
            task_queue=QUEUE,
        )
        await env.fast_forward(handle, timedelta(days=100))
        assert await handle.result() == "requested"
    types = await event_types(runtime, block.block_contract_id)
    assert types == ["block_contract.renewal_requested"]
