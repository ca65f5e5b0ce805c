"""Wiring of the provider register: what it publishes, consumes, serves and runs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from services.provider_registry import activities, api, api_people, files_api, handlers, workflows
from shared.contracts import providers_v1
from shared.runtime import ServiceDefinition, ServiceRuntime

# 06:00 UTC, before the council's working day, so morning alerts are current.
SWEEP_CRON = "0 6 * * *"


async def ensure_sweep_schedule(runtime: ServiceRuntime) -> None:
    """Create the daily document-expiry schedule once; every later start finds it."""
    if runtime.temporal is None:
        return
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            workflows.DocumentExpirySweep.run,
            id=workflows.SWEEP_SCHEDULE_ID + ".run",
            task_queue=runtime.settings.task_queue,
            execution_timeout=timedelta(hours=1),
        ),
        spec=ScheduleSpec(cron_expressions=[SWEEP_CRON]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await runtime.temporal.create_schedule(workflows.SWEEP_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        pass  # another replica (or an earlier start) created it


definition = ServiceDefinition(
    name="provider_registry",
    title="send-dps provider register",
    description="The council's record of every NMISS school it may place with.",
    migrations_dir=Path(__file__).parent / "migrations",
    publishes=[providers_v1.TOPIC],
    routers=[api.router, api_people.router, files_api.router],
    subscriptions=handlers.subscriptions,
    workflows=workflows.WORKFLOWS,
    activities=activities.activities,
    on_start=[ensure_sweep_schedule],
)
