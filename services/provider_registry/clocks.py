"""Starting the register's workflows: the daily document-expiry sweep's schedule.

Workflows are started by their registered type name (``workflow_types``), never by
importing ``workflows.py``.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from services.provider_registry.workflow_types import (
    SWEEP_CRON,
    SWEEP_RUN_ID,
    SWEEP_SCHEDULE_ID,
    SWEEP_WORKFLOW,
)
from shared.runtime import ServiceRuntime


async def ensure_sweep_schedule(runtime: ServiceRuntime) -> None:
    """Create the daily document-expiry schedule once; every later start finds it."""
    if runtime.temporal is None:
        return
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            SWEEP_WORKFLOW,
            id=SWEEP_RUN_ID,
            task_queue=runtime.settings.task_queue,
            execution_timeout=timedelta(hours=1),
        ),
        spec=ScheduleSpec(cron_expressions=[SWEEP_CRON]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await runtime.temporal.create_schedule(SWEEP_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        pass  # another replica (or an earlier start) created it
