"""The daily document-expiry sweep on the real Temporal dev server: the service creates
its schedule on start (and a second start does not fail), a run announces expiring
documents through the outbox, and a repeated run announces nothing new."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio.client import ScheduleActionStartWorkflow

from services.provider_registry import workflows
from services.provider_registry.activities import SweepResult
from services.provider_registry.app import ensure_sweep_schedule
from shared.contracts.common import Role
from shared.infra_models import OutboxMessage
from shared.runtime import ServiceRuntime
from tests.fixtures import provider_body
from tests.harness import client_for, eventually, make_runtime

pytestmark = pytest.mark.integration


@pytest.fixture
async def registry(
    kafka_bootstrap: str, temporal_address: str, database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    runtime = make_runtime(
        "provider_registry",
        database_url("registry"),
        tmp_path,
        kafka=kafka_bootstrap,
        temporal=temporal_address,
        consumer_group=f"g-sweep-{tmp_path.name}",
    )
    await runtime.start()
    yield runtime
    # The schedule outlives the service on the shared dev server; its stored input is
    # encrypted with this runtime's payload key (generated in its own data folder), which
    # the next test's runtime does not hold. A real stack shares one key.
    assert runtime.temporal is not None
    await runtime.temporal.get_schedule_handle(workflows.SWEEP_SCHEDULE_ID).delete()
    await runtime.stop()


async def _expiring(runtime: ServiceRuntime) -> list[OutboxMessage]:
    async with runtime.db.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(OutboxMessage.event_type == "provider.document_expiring")
        )
        return list(rows.all())


async def test_schedule_and_sweep_on_temporal(registry: ServiceRuntime, tokens) -> None:
    assert registry.temporal is not None
    soon = (date.today() + timedelta(days=10)).isoformat()
    later = (date.today() + timedelta(days=400)).isoformat()
    body = provider_body(
        urn=620001,
        documents=[
            {"kind": "insurance", "expires_on": soon},
            {"kind": "safeguarding_policy", "expires_on": later},
            {"kind": "financial_check", "expires_on": later},
        ],
    )
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        assert (await client.post("/providers", json=body)).status_code == 201

    schedule = registry.temporal.get_schedule_handle(workflows.SWEEP_SCHEDULE_ID)
    description = await schedule.describe()
    action = description.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == workflows.SWEEP_WORKFLOW
    assert action.task_queue == registry.settings.task_queue
    await ensure_sweep_schedule(registry)  # another replica starting: no error

    await schedule.trigger()  # what 06:00 would do
    await eventually(lambda: _count_is(registry, 1), within=30)

    result = await registry.temporal.execute_workflow(
        workflows.DocumentExpirySweep.run,
        id=f"sweep-test-{uuid.uuid4()}",
        task_queue=registry.settings.task_queue,
        result_type=SweepResult,
    )
    assert result.providers_checked == 1 and result.notices_sent == 0  # already announced
    assert len(await _expiring(registry)) == 1


async def _count_is(runtime: ServiceRuntime, expected: int) -> bool:
    return len(await _expiring(runtime)) == expected
