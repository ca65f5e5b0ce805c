"""The Temporal worker is stopped mid-workflow and a new one started on the same task
queue against the same dev server: the waiting review, its timers and the cycle carry on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.placements.activities import activities
from services.placements.workflow_types import workflow_id
from services.placements.workflows import WORKFLOWS, LifecycleInput, PlacementLifecycleWorkflow
from shared.runtime import ServiceRuntime
from tests.harness import eventually
from tests.integration.placements.conftest import QUEUE, event_types, make_active_placement
from tests.integration.placements.test_lifecycle_workflow import record_outcome

pytestmark = pytest.mark.integration


def new_worker(env: WorkflowEnvironment, runtime: ServiceRuntime) -> Worker:
    return Worker(
        env.client,
        task_queue=QUEUE,
        workflows=WORKFLOWS,
        activities=activities(runtime),
    )


async def test_review_wait_and_timers_survive_a_worker_restart(
    env: WorkflowEnvironment, runtime: ServiceRuntime
) -> None:
    today = datetime.now(UTC).date()
    placement_id = await make_active_placement(runtime, today)  # review due on day 50
    first_worker = new_worker(env, runtime)
    async with first_worker:
        handle = await env.client.start_workflow(
            PlacementLifecycleWorkflow.run,
            LifecycleInput(placement_id=placement_id),
            id=workflow_id(placement_id),
            task_queue=QUEUE,
        )
        first_run = handle.result_run_id
        await env.fast_forward(handle, timedelta(days=20))  # past the 6-week reminder

        async def first_reminder() -> bool:
            return (await event_types(runtime, placement_id)).count("placement.review.due") == 1

        await eventually(first_reminder, within=30)
    # The worker is gone; the workflow waits on the server with its timer.
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    async with new_worker(env, runtime):
        assert await handle.query(PlacementLifecycleWorkflow.waiting) is True
        await env.fast_forward(handle, timedelta(days=40))  # 2-week reminder, then overdue

        async def reminded_and_overdue() -> bool:
            types = await event_types(runtime, placement_id)
            return types.count("placement.review.due") == 2 and "placement.review.overdue" in types

        await eventually(reminded_and_overdue, within=60)
        types = await event_types(runtime, placement_id)
        assert types.count("placement.review.due") == 2  # nothing sent twice
        assert types.count("placement.review.overdue") == 1

        # The review the first worker started waiting on is answered through the new one.
        await record_outcome(runtime, placement_id, f"{placement_id}-R1")
        await handle.signal(PlacementLifecycleWorkflow.refresh)

        async def next_cycle() -> bool:
            latest = env.client.get_workflow_handle(handle.id)
            return (await latest.describe()).run_id != first_run

        await eventually(next_cycle, within=30)
        latest = await env.client.get_workflow_handle(handle.id).describe()
        assert latest.status == WorkflowExecutionStatus.RUNNING
        await env.client.get_workflow_handle(handle.id).terminate("test over")
