"""The termly "no KPI return" check: one workflow started by the service itself, and
with time skipping, it sleeps until the term's deadline before checking."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.monitoring.workflows import (
    KPI_CHECK_WORKFLOW_ID,
    KpiCheckInput,
    KpiCheckPlan,
    KpiReturnCheckWorkflow,
)
from shared.infra_models import utcnow
from tests.harness import eventually, make_runtime, time_skipping_server

pytestmark = pytest.mark.integration


async def test_service_starts_one_kpi_check_workflow_idempotently(
    kafka_bootstrap: str, temporal_address: str, database_url, tmp_path: Path
) -> None:
    url = database_url("monitoring")
    runtime = make_runtime(
        "monitoring",
        url,
        tmp_path,
        kafka=kafka_bootstrap,
        temporal=temporal_address,
        consumer_group="g-kpi-check",
    )
    await runtime.start()
    try:
        assert runtime.temporal is not None
        handle = runtime.temporal.get_workflow_handle(KPI_CHECK_WORKFLOW_ID)

        async def running() -> bool:
            try:
                return (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            except Exception:
                return False

        await eventually(running)
        run_id = (await handle.describe()).run_id
        # A restart (or a second replica) does not start a second one.
        await runtime.stop()
        runtime = make_runtime(
            "monitoring",
            url,
            tmp_path,
            kafka=kafka_bootstrap,
            temporal=temporal_address,
            consumer_group="g-kpi-check",
        )
        await runtime.start()
        assert runtime.temporal is not None
        again = runtime.temporal.get_workflow_handle(KPI_CHECK_WORKFLOW_ID)
        assert (await again.describe()).run_id == run_id
    finally:
        await runtime.stop()


@pytest.fixture
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await time_skipping_server()
    yield env
    await env.shutdown()


async def test_check_runs_after_the_terms_deadline(time_skipping: WorkflowEnvironment) -> None:
    checked: list[str] = []
    deadline = utcnow() + timedelta(days=3)

    @activity.defn(name="plan_kpi_check")
    async def plan_kpi_check(params: KpiCheckInput) -> KpiCheckPlan:
        return KpiCheckPlan(
            term=params.term or "2025-autumn", deadline=deadline, next_term="2026-spring"
        )

    @activity.defn(name="check_missing_kpi_returns")
    async def check_missing_kpi_returns(term: str) -> int:
        checked.append(term)
        return 3

    async with Worker(
        time_skipping.client,
        task_queue="kpi-test",
        workflows=[KpiReturnCheckWorkflow],
        activities=[plan_kpi_check, check_missing_kpi_returns],
    ):
        handle = await time_skipping.client.start_workflow(
            KpiReturnCheckWorkflow.run,
            KpiCheckInput(term="2025-autumn", once=True),
            id=f"kpi-{uuid.uuid4()}",
            task_queue="kpi-test",
        )
        assert checked == []
        await time_skipping.fast_forward(handle, timedelta(days=4))
        result = await handle.result()
    assert (result.term, result.alerts_raised) == ("2025-autumn", 3)
    assert checked == ["2025-autumn"]
