"""Failed activities and workflows are counted per service (the WorkflowFailures alert)."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import WorkflowFailureError

from shared import temporal
from shared.metrics import ACTIVITY_FAILURES, WORKFLOW_FAILURES
from tests.service.failing_workflow import FailingWorkflow, always_fails


async def test_failures_are_counted(temporal_address: str) -> None:
    client = await temporal.connect(temporal_address)
    queue = f"ops-{uuid.uuid4().hex[:8]}"
    worker = temporal.make_worker(
        client, queue, workflows=[FailingWorkflow], activities=[always_fails], service="ops-wf"
    )
    async with worker:
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(FailingWorkflow.run, id=queue, task_queue=queue)
    assert ACTIVITY_FAILURES.labels("ops-wf", "always_fails")._value.get() == 1
    assert WORKFLOW_FAILURES.labels("ops-wf", "FailingWorkflow", "workflow")._value.get() == 1
