"""Temporal workflows of an award's clocks: standstill, then the contract; a notice's
due date, then the overdue alert. Deterministic: a timer to an absolute instant (computed
by the domain when the award was written), then an activity that re-reads the database.
Starting them and the on_start sweep are clocks.py's.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.procurement.workflow_types import (
        END_STANDSTILL_ACTIVITY,
        NOTICE_OVERDUE_ACTIVITY,
        NOTICE_WORKFLOW,
        STANDSTILL_WORKFLOW,
        ClockTick,
        NoticeClock,
        StandstillClock,
    )

ACTIVITY_TIMEOUT = timedelta(minutes=2)
# If the activity finds the instant not reached yet (clock skew), look again this soon.
RECHECK = timedelta(minutes=5)


async def _tick_until(activity_name: str, subject: str, at: datetime) -> None:
    """Sleep until ``at``, then run the activity until it says it is done."""
    while True:
        delay = at - workflow.now()
        if delay > timedelta(0):
            await asyncio.sleep(delay.total_seconds())
        done = await workflow.execute_activity(
            activity_name,
            ClockTick(subject=subject, now=workflow.now()),
            result_type=bool,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        if done:
            return
        at = workflow.now() + RECHECK


@workflow.defn(name=STANDSTILL_WORKFLOW)
class StandstillWorkflow:
    """Awarded, in standstill -> timer to the end of standstill -> contract concluded
    (``procurement.competition.standstill_ended``; placements makes the contract)."""

    @workflow.run
    async def run(self, clock: StandstillClock) -> str:
        await _tick_until(END_STANDSTILL_ACTIVITY, clock.competition_id, clock.ends_at)
        return "concluded"


@workflow.defn(name=NOTICE_WORKFLOW)
class NoticeDueWorkflow:
    """Notice due -> timer to the end of its due day -> overdue alert unless it was sent
    or published by then."""

    @workflow.run
    async def run(self, clock: NoticeClock) -> str:
        await _tick_until(NOTICE_OVERDUE_ACTIVITY, clock.notice_id, clock.due_at)
        return "checked"


NOTICE_WORKFLOWS: list[type] = [StandstillWorkflow, NoticeDueWorkflow]
