"""Workflow versioning: the renewal wait changed under ``workflow.patched``.

Before the patch ``renewal-decision-overdue`` the lifecycle workflow asked for a renewal
decision and then slept until the term end. Now, when no decision is recorded by the
notice deadline (term end - notice period), it raises
``placement.renewal.decision_overdue``. The history recorded by the old code
(``histories/lifecycle_renewal_wait_v1.json``) must still replay on the new code; the new
path is recorded too (``histories/lifecycle_renewal_overdue_v2.json``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from services.placements import domain
from services.placements.activities import BlockActivities, activities
from services.placements.models import BlockContractRow, save_block
from services.placements.workflow_types import workflow_id
from services.placements.workflows import (
    WORKFLOWS,
    BlockContractRenewalWorkflow,
    BlockRenewalInput,
    LifecycleInput,
    PlacementLifecycleWorkflow,
)
from shared.contracts.common import Attendance, NeedType
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

PRE_PATCH = HISTORIES / "lifecycle_renewal_wait_v1.json"
POST_PATCH = HISTORIES / "lifecycle_renewal_overdue_v2.json"
LOCAL_STEPS = HISTORIES / "lifecycle_local_steps_v3.json"  # patch local-steps


async def run_past_notice_deadline(
    env: WorkflowEnvironment, runtime: ServiceRuntime
) -> tuple[str, WorkflowHistory]:
    """Term ends in 200 days, notice 12 weeks: the renewal decision is asked on day 88,
    the notice deadline is day 116; time passes to day 130 with no decision."""
    today = datetime.now(UTC).date()
    placement_id = await make_active_placement(runtime, today, term_days=200)
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
        await env.fast_forward(handle, timedelta(days=130))

        async def renewal_asked() -> bool:
            return "placement.renewal.decision_requested" in await event_types(
                runtime, placement_id
            )

        await eventually(renewal_asked, within=60)
        return placement_id, await handle.fetch_history()


async def test_renewal_overdue_is_raised_and_both_histories_replay(
    env: WorkflowEnvironment, runtime: ServiceRuntime
) -> None:
    placement_id, history = await run_past_notice_deadline(env, runtime)
    assert "placement.renewal.decision_overdue" in await event_types(runtime, placement_id)
    assert any(e.HasField("marker_recorded_event_attributes") for e in history.events)
    if not LOCAL_STEPS.exists():
        LOCAL_STEPS.write_text(history.to_json())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
    for path in (PRE_PATCH, POST_PATCH, LOCAL_STEPS):
        stored = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
        await replayer.replay_workflow(stored)


def test_pre_patch_history_went_down_the_old_path() -> None:
    """The old history asked for the renewal and then only waited (no marker, no overdue)."""
    history = WorkflowHistory.from_json("v1", PRE_PATCH.read_text())
    assert not any(e.HasField("marker_recorded_event_attributes") for e in history.events)
    assert history.events[-1].HasField("timer_started_event_attributes") or any(
        e.HasField("timer_started_event_attributes") for e in history.events[-6:]
    )


async def test_block_renewal_decided_early_is_not_asked_again(
    env: WorkflowEnvironment, runtime: ServiceRuntime
) -> None:
    """Patch ``block-renewal-decided-early``: a decision recorded before the request date
    ends the block renewal workflow without a request."""
    today = datetime.now(UTC).date()
    block = domain.new_block_contract(
        str(uuid.uuid4()),
        "p-4",
        NeedType.SEMH,
        Attendance.DAY,
        2,
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
        async with runtime.db.transaction() as session:
            row = await session.get(BlockContractRow, block.block_contract_id)
            assert row is not None
            row.renewal_decision = "reprocure"
            row.renewal_decided_for = block.term_end
            session.add(row)
        await handle.signal(BlockContractRenewalWorkflow.refresh)
        assert await handle.result() == "decided"
        history = await handle.fetch_history()
    assert await event_types(runtime, block.block_contract_id) == []
    assert any(e.HasField("marker_recorded_event_attributes") for e in history.events)
    await Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter).replay_workflow(
        history
    )
