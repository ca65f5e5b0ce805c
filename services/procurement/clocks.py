"""Starting, signalling and sweeping procurement's workflows (client side).

Workflows are started by their registered type name (``workflow_types``), never by
importing the workflow classes. A start or a signal that fails is logged, not raised:
the stored state rules (activities re-read it) and the on_start sweep starts what is
missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import ColumnElement
from sqlmodel import col, select
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.procurement import domain as d
from services.procurement.models import (
    ApplicationRow,
    AwardRow,
    CompetitionRow,
    SelfDeclarationRow,
    TrackedNoticeRow,
    tracked_notice_to_domain,
)
from services.procurement.workflow_types import (
    APPLICATION_WORKFLOW,
    COMPETITION_WORKFLOW,
    DECLARATION_WORKFLOW,
    NOTICE_WORKFLOW,
    STANDSTILL_WORKFLOW,
    ApplicationClock,
    CompetitionClock,
    DeclarationClock,
    NoticeClock,
    StandstillClock,
    application_workflow_id,
    competition_workflow_id,
    declaration_workflow_id,
    notice_workflow_id,
    standstill_workflow_id,
)
from shared.logging import get_logger
from shared.runtime import ServiceRuntime

log = get_logger(__name__)


async def _start(runtime: ServiceRuntime, workflow_name: str, arg: BaseModel, wf_id: str) -> None:
    if runtime.temporal is None:
        log.warning("workflow.not_started", workflow_id=wf_id, reason="no Temporal client")
        return
    try:
        await runtime.temporal.start_workflow(
            workflow_name,
            arg,
            id=wf_id,
            task_queue=runtime.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        pass  # idempotent: it is already running
    except Exception as exc:  # the on_start sweep starts it next time
        log.warning("workflow.start_failed", workflow_id=wf_id, error=repr(exc))


async def start_declaration_workflow(runtime: ServiceRuntime, clock: DeclarationClock) -> None:
    await _start(runtime, DECLARATION_WORKFLOW, clock, declaration_workflow_id(clock.request_id))


async def start_application_workflow(runtime: ServiceRuntime, clock: ApplicationClock) -> None:
    await _start(
        runtime, APPLICATION_WORKFLOW, clock, application_workflow_id(clock.application_id)
    )


async def start_competition_workflow(
    runtime: ServiceRuntime, competition_id: str, deadline_at: datetime
) -> None:
    clock = CompetitionClock(competition_id=competition_id, deadline_at=deadline_at)
    await _start(runtime, COMPETITION_WORKFLOW, clock, competition_workflow_id(competition_id))
    # The Act's tender notice of a dynamic market call-off, if it owes one.
    await _start_due_notice_clocks(runtime, col(TrackedNoticeRow.competition_id) == competition_id)


async def start_standstill_clock(
    runtime: ServiceRuntime, competition_id: str, ends_at: datetime
) -> None:
    clock = StandstillClock(competition_id=competition_id, ends_at=ends_at)
    await _start(runtime, STANDSTILL_WORKFLOW, clock, standstill_workflow_id(competition_id))


async def start_notice_clock(runtime: ServiceRuntime, notice: d.TrackedNotice) -> None:
    clock = NoticeClock(notice_id=notice.notice_id, due_at=notice.due_at)
    await _start(runtime, NOTICE_WORKFLOW, clock, notice_workflow_id(notice.notice_id))


async def start_notice_clocks(runtime: ServiceRuntime, notices: Iterable[d.TrackedNotice]) -> None:
    for notice in notices:
        await start_notice_clock(runtime, notice)


async def start_scheme_notice_clocks(runtime: ServiceRuntime, scheme_id: str) -> None:
    """Start the clock of every notice of the scheme still due (e.g. once created)."""
    await _start_due_notice_clocks(runtime, col(TrackedNoticeRow.scheme_id) == scheme_id)


async def _start_due_notice_clocks(runtime: ServiceRuntime, where: ColumnElement[bool]) -> None:
    if runtime.temporal is None:
        return
    async with runtime.db.session() as session:
        due = (
            await session.exec(
                select(TrackedNoticeRow).where(
                    where,
                    TrackedNoticeRow.status == d.NoticeStatus.DUE.value,
                    col(TrackedNoticeRow.overdue_at).is_(None),
                )
            )
        ).all()
    await start_notice_clocks(runtime, [tracked_notice_to_domain(n) for n in due])


async def signal(
    runtime: ServiceRuntime, wf_id: str, name: str, arg: BaseModel | None = None
) -> None:
    """Signal a workflow; if it is gone the stored state still rules (activities re-read it)."""
    if runtime.temporal is None:
        return
    handle: WorkflowHandle[object, object] = runtime.temporal.get_workflow_handle(wf_id)
    try:
        if arg is None:
            await handle.signal(name)
        else:
            await handle.signal(name, arg)
    except Exception as exc:
        log.warning("workflow.signal_failed", workflow_id=wf_id, signal=name, error=repr(exc))


# ------------------------------------------------------------- on_start sweeps


async def start_missing_workflows(runtime: ServiceRuntime) -> None:
    """on_start: start the workflow of every undecided application and running call-off,
    so a crash between a commit and its workflow start loses nothing."""
    if runtime.temporal is None:
        return
    async with runtime.db.session() as session:
        apps = (
            await session.exec(select(ApplicationRow).where(ApplicationRow.status != "decided"))
        ).all()
        running = [
            d.CompetitionStatus.OPEN.value,
            d.CompetitionStatus.CLOSED.value,
            d.CompetitionStatus.EVALUATION.value,
            d.CompetitionStatus.EVALUATED.value,
        ]
        comps = (
            await session.exec(
                select(CompetitionRow).where(col(CompetitionRow.status).in_(running))
            )
        ).all()
    for a in apps:
        clock = ApplicationClock(application_id=a.id, reminder_at=a.reminder_at, due_at=a.due_at)
        await start_application_workflow(runtime, clock)
    for c in comps:
        await start_competition_workflow(runtime, c.id, c.deadline_at)
    log.info("workflows.swept", applications=len(apps), competitions=len(comps))
    await start_missing_declaration_workflows(runtime)


async def start_missing_declaration_workflows(runtime: ServiceRuntime) -> None:
    """on_start: restart the clock of every unanswered, not yet overdue declaration."""
    async with runtime.db.session() as session:
        waiting = (
            await session.exec(
                select(SelfDeclarationRow).where(
                    SelfDeclarationRow.status == "requested",
                    col(SelfDeclarationRow.overdue_at).is_(None),
                )
            )
        ).all()
    for r in waiting:
        await start_declaration_workflow(
            runtime, DeclarationClock(request_id=r.id, due_at=r.due_at)
        )


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
