"""Temporal workflows of an award's clocks: standstill, then the contract; a notice's
due date, then the overdue alert. Deterministic: a timer to an absolute instant (computed
by the domain when the award was written), then an activity that re-reads the database.
Starting helpers and the on_start sweep at the bottom run outside workflows.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel
    from sqlmodel import col, select

    from services.procurement import domain as d
    from services.procurement.models import AwardRow, TrackedNoticeRow, tracked_notice_to_domain
    from services.procurement.notice_activities import (
        END_STANDSTILL_ACTIVITY,
        NOTICE_OVERDUE_ACTIVITY,
        ClockTick,
        NoticeClock,
        StandstillClock,
    )
    from services.procurement.workflows import _start, log
    from shared.runtime import ServiceRuntime

STANDSTILL_WORKFLOW = "procurement.standstill"
NOTICE_WORKFLOW = "procurement.notice_due"
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


# ------------------------------------------------- starting (client side)


def standstill_workflow_id(competition_id: str) -> str:
    return f"standstill-{competition_id}"


def notice_workflow_id(notice_id: str) -> str:
    return f"notice-{notice_id}"


async def start_standstill_clock(
    runtime: ServiceRuntime, competition_id: str, ends_at: datetime
) -> None:
    clock: BaseModel = StandstillClock(competition_id=competition_id, ends_at=ends_at)
    await _start(runtime, STANDSTILL_WORKFLOW, clock, standstill_workflow_id(competition_id))


async def start_notice_clock(runtime: ServiceRuntime, notice: d.TrackedNotice) -> None:
    clock: BaseModel = NoticeClock(notice_id=notice.notice_id, due_at=notice.due_at)
    await _start(runtime, NOTICE_WORKFLOW, clock, notice_workflow_id(notice.notice_id))


async def start_missing_clocks(runtime: ServiceRuntime) -> None:
    """on_start: the standstill of every award still in it and the clock of every notice
    still due, so that a crash between a commit and its workflow start loses nothing."""
    if runtime.temporal is None:
        return
    async with runtime.db.session() as session:
        awards = (
            await session.exec(
                select(AwardRow).where(
                    col(AwardRow.contract_awaits_standstill).is_(True),
                    col(AwardRow.standstill_ended_at).is_(None),
                )
            )
        ).all()
        notices = (
            await session.exec(
                select(TrackedNoticeRow).where(
                    TrackedNoticeRow.status == d.NoticeStatus.DUE.value,
                    col(TrackedNoticeRow.overdue_at).is_(None),
                )
            )
        ).all()
    for a in awards:
        if a.standstill_ends_at is not None:
            await start_standstill_clock(runtime, a.competition_id, a.standstill_ends_at)
    for n in notices:
        await start_notice_clock(runtime, tracked_notice_to_domain(n))
    log.info("award_clocks.swept", standstills=len(awards), notices=len(notices))
