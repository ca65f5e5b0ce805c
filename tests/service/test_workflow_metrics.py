"""Failed activities and workflows are counted per service (the WorkflowFailures alert)."""

from __future__ import annotations

import asyncio
import socket
import urllib.request
import uuid

import pytest
from temporalio.client import WorkflowFailureError

from dps import processes
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


def _served(text: str, name: str) -> bool:
    return any(
        line.startswith(name + "{") and 'service="ops-core"' in line for line in text.splitlines()
    )


def scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as response:
        return str(response.read().decode())


async def test_core_serves_schedule_to_start_and_failures_labelled_by_service(
    temporal_address: str,
) -> None:
    """The SDK's Core metrics, on their own port (DPS_TEMPORAL_METRICS_PORT)."""
    address = f"127.0.0.1:{processes.free_port()}"
    client = await temporal.connect(
        temporal_address, runtime=temporal.core_runtime("ops-core", address)
    )
    queue = f"ops-core-{uuid.uuid4().hex[:8]}"
    worker = temporal.make_worker(
        client, queue, workflows=[FailingWorkflow], activities=[always_fails], service="ops-core"
    )
    names = (
        "temporal_workflow_task_schedule_to_start_latency_seconds_count",
        "temporal_workflow_failed_total",
        "temporal_activity_schedule_to_start_latency_seconds_count",
        "temporal_activity_execution_failed_total",
    )
    async with worker:
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(FailingWorkflow.run, id=queue, task_queue=queue)
        # The worker counts the failure as it completes the task, which may be just after
        # the client hears of it (seen on a loaded machine): scrape until it shows.
        for _ in range(50):
            text = await asyncio.to_thread(scrape, address)
            missing = [name for name in names if not _served(text, name)]
            if not missing:
                break
            await asyncio.sleep(0.1)
    assert not missing, f"{', '.join(missing)} not served"
    typed = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    # The task-failure counter appears at the first failed task; its name is what the
    # alert rules use (tests/unit/test_deploy.py checks the rules use only CORE_METRICS).
    assert set(temporal.CORE_METRICS) - typed <= {"temporal_workflow_task_execution_failed_total"}


def test_a_taken_metrics_port_stops_the_start_with_a_clear_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ValueError, match="Address already in use"):
            temporal.core_runtime("ops-taken", f"127.0.0.1:{port}")
