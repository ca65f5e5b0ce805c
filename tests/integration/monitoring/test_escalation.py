"""The escalation workflow per critical alert, on the real Temporal dev server and with
time skipping for the real 1-working-day deadline."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.monitoring.handlers import on_provider_registered
from services.monitoring.models import AlertRow, Delivery
from services.monitoring.workflows import (
    AlertEscalationWorkflow,
    EscalationInput,
    EscalationResult,
    escalation_workflow_id,
)
from shared.contracts import providers_v1
from shared.contracts.common import Role
from shared.infra_models import OutboxMessage, utcnow
from shared.runtime import ServiceRuntime
from shared.unit_of_work import unit_of_work
from shared.working_days import add_working_days
from tests.harness import client_for, eventually, make_runtime, time_skipping_server
from tests.service.monitoring import events

pytestmark = pytest.mark.integration

INCIDENT = {
    "provider_id": "p-esc",
    "category": "safeguarding",
    "severity": "high",
    "occurred_on": "2026-01-06",
    "summary": "Unexplained injury reported; child ref KCC-EHC-000777.",
}


async def _runtime(
    kafka: str, temporal: str, url: str, tmp_path: Path, group: str
) -> ServiceRuntime:
    runtime = make_runtime(
        "monitoring", url, tmp_path, kafka=kafka, temporal=temporal, consumer_group=group
    )
    await runtime.start()
    return runtime


async def _critical_alert(runtime: ServiceRuntime, token: str) -> str:
    # Learn the provider the way monitoring does: from its registration event.
    registered = events.registered("p-esc")
    async with unit_of_work(runtime.db, runtime.source) as uow:
        payload = providers_v1.ProviderRegistered.model_validate(registered.data)
        await on_provider_registered(uow, registered, payload)
    async with client_for(runtime, token) as client:
        response = await client.post("/incidents", json=INCIDENT)
    assert response.status_code == 201, response.text
    [alert_id] = response.json()["alerts_raised"]
    return str(alert_id)


async def test_sweep_starts_workflow_and_acknowledgement_stops_it(
    kafka_bootstrap: str, temporal_address: str, database_url, tmp_path: Path, tokens
) -> None:
    runtime = await _runtime(
        kafka_bootstrap, temporal_address, database_url("monitoring"), tmp_path, "g-esc-ack"
    )
    try:
        alert_id = await _critical_alert(runtime, tokens[Role.MONITORING_OFFICER])
        assert runtime.temporal is not None
        handle = runtime.temporal.get_workflow_handle(escalation_workflow_id(alert_id))

        async def started() -> bool:
            try:
                return (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            except Exception:
                return False

        await eventually(started)
        async with client_for(runtime, tokens[Role.MONITORING_OFFICER]) as client:
            response = await client.post(f"/alerts/{alert_id}/acknowledge")
        assert response.status_code == 200
        result = await handle.result()
        assert EscalationResult.model_validate(result).escalated is False
        async with runtime.db.session() as session:
            row = await session.get(AlertRow, alert_id)
        assert row is not None and row.workflow_started_at is not None
        assert row.escalated_at is None
    finally:
        await runtime.stop()


async def test_unacknowledged_alert_escalates_at_its_deadline(
    kafka_bootstrap: str, temporal_address: str, database_url, tmp_path: Path, tokens
) -> None:
    runtime = await _runtime(
        kafka_bootstrap, temporal_address, database_url("monitoring"), tmp_path, "g-esc-late"
    )
    try:
        alert_id = await _critical_alert(runtime, tokens[Role.MONITORING_OFFICER])
        assert runtime.temporal is not None
        # A second workflow with a near deadline stands in for "one working day later".
        result = await runtime.temporal.execute_workflow(
            AlertEscalationWorkflow.run,
            EscalationInput(alert_id=alert_id, deadline=utcnow() + timedelta(seconds=1)),
            id=f"test-escalation-{uuid.uuid4()}",
            task_queue=runtime.settings.task_queue,
        )
        assert result.escalated is True
        async with runtime.db.session() as session:
            row = await session.get(AlertRow, alert_id)
            escalated = (
                await session.exec(
                    select(OutboxMessage).where(
                        OutboxMessage.event_type == "quality.alert.escalated"
                    )
                )
            ).all()
            notices = (
                await session.exec(select(Delivery).where(Delivery.purpose == "escalated"))
            ).all()
        assert row is not None and row.escalated_at is not None and row.status == "open"
        assert len(escalated) == 1 and escalated[0].key == alert_id
        assert sorted(n.channel for n in notices) == ["email", "webhook"]
    finally:
        await runtime.stop()


@pytest.fixture
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await time_skipping_server()
    yield env
    await env.shutdown()


@pytest.mark.parametrize("acknowledged", [False, True])
async def test_one_working_day_deadline_with_time_skipping(
    time_skipping: WorkflowEnvironment, acknowledged: bool
) -> None:
    calls: list[str] = []

    @activity.defn(name="escalate_alert")
    async def escalate_alert(params: EscalationInput) -> bool:
        calls.append(params.alert_id)
        return True

    now = utcnow()
    deadline = now.replace(microsecond=0) + (
        add_working_days(now.date(), 1) - now.date()
    )  # same clock time, next working day
    async with Worker(
        time_skipping.client,
        task_queue="esc-test",
        workflows=[AlertEscalationWorkflow],
        activities=[escalate_alert],
    ):
        handle = await time_skipping.client.start_workflow(
            AlertEscalationWorkflow.run,
            EscalationInput(alert_id="a-1", deadline=deadline),
            id=f"esc-{uuid.uuid4()}",
            task_queue="esc-test",
        )
        if acknowledged:
            await handle.signal(AlertEscalationWorkflow.acknowledge)
        await time_skipping.fast_forward(handle, timedelta(days=4))
        result = await handle.result()
    assert result.escalated is (not acknowledged)
    assert calls == ([] if acknowledged else ["a-1"])
