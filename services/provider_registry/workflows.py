"""Temporal workflows of the provider register (the daily document-expiry sweep).

Deterministic: no I/O and no clock but workflow.now(); the activity does the database work.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.provider_registry.workflow_types import (
        SWEEP_ACTIVITY,
        SWEEP_SCHEDULE_ID,
        SWEEP_WORKFLOW,
        SweepResult,
    )

__all__ = ["SWEEP_SCHEDULE_ID", "WORKFLOWS", "DocumentExpirySweep"]


@workflow.defn(name=SWEEP_WORKFLOW)
class DocumentExpirySweep:
    """Once a day (a Temporal Schedule starts it): announce documents expiring soon."""

    @workflow.run
    async def run(self) -> SweepResult:
        # The schedule's fire time, not the activity's clock, decides "today", so a
        # retried or late run sweeps for the day it was meant for.
        today = workflow.now().date()
        result: SweepResult = await workflow.execute_activity(
            SWEEP_ACTIVITY,
            today,
            result_type=SweepResult,
            start_to_close_timeout=timedelta(minutes=10),
        )
        return result


WORKFLOWS: list[type] = [DocumentExpirySweep]
