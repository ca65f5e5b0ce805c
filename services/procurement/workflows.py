"""Temporal workflows of procurement: the application evaluation clock and the call-off.

Deterministic: no I/O and no clock but workflow.now(); deadlines arrive as absolute
instants (computed by the domain when the application or competition was written) and
activities do the database work, given the workflow's now. Starting and signalling
helpers at the bottom run outside workflows (API, handlers, on_start sweep).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Literal

from temporalio import workflow

# Everything but the workflow classes is passed through: re-importing pydantic or the
# ORM in every workflow's sandbox costs seconds per workflow task.
with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel
    from sqlmodel import col, select
    from temporalio.client import WorkflowHandle
    from temporalio.common import WorkflowIDConflictPolicy
    from temporalio.exceptions import WorkflowAlreadyStartedError

    from services.procurement import domain as d
    from services.procurement.activities import (
        CLOSE_ACTIVITY,
        DECLARATION_OVERDUE_ACTIVITY,
        OVERDUE_ACTIVITY,
        REMIND_ACTIVITY,
        ApplicationClock,
        AwardSignal,
        ClockCheck,
        ClockState,
        CompetitionCheck,
        CompetitionClock,
        CompetitionState,
        DeclarationCheck,
        DeclarationClock,
    )
    from services.procurement.models import ApplicationRow, CompetitionRow, SelfDeclarationRow
    from shared.logging import get_logger
    from shared.runtime import ServiceRuntime

APPLICATION_WORKFLOW = "procurement.application_evaluation"
DECLARATION_WORKFLOW = "procurement.self_declaration"
COMPETITION_WORKFLOW = "procurement.competition"
ACTIVITY_TIMEOUT = timedelta(minutes=2)
# A lost award signal must not strand a call-off: re-read its state this often.
AWARD_RECHECK = timedelta(days=1)
FINAL_STATUSES = {"awarded", "no_suitable_bid", "no_eligible_members"}


@workflow.defn(name=APPLICATION_WORKFLOW)
class ApplicationEvaluationWorkflow:
    """10 working days from submission (15 once extended): remind the evaluators on day 7
    (day 12 when extended), escalate when the deadline passes, complete on decision."""

    def __init__(self) -> None:
        self._clock: ApplicationClock | None = None
        self._decided = False
        self._changed = False
        self._reminded = False
        self._overdue = False

    @workflow.run
    async def run(self, clock: ApplicationClock) -> str:
        if self._clock is None:  # an extension signalled before the first task wins
            self._clock = clock
        while not self._decided:
            step = self._next_step()
            if step is None:
                await workflow.wait_condition(lambda: self._decided or self._changed)
                self._changed = False
                continue
            name, at = step
            if not await self._sleep_until(at):
                continue
            state = await workflow.execute_activity(
                name,
                ClockCheck(application_id=self._clock.application_id, now=workflow.now()),
                result_type=ClockState,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
            )
            self._apply(name, state)
        return "decided"

    def _next_step(self) -> tuple[str, datetime] | None:
        assert self._clock is not None
        if not self._reminded:
            return REMIND_ACTIVITY, self._clock.reminder_at
        if not self._overdue:
            return OVERDUE_ACTIVITY, self._clock.due_at
        return None

    async def _sleep_until(self, at: datetime) -> bool:
        """Wait for ``at``; False if a decision or an extension came first."""
        self._changed = False
        delay = at - workflow.now()
        if delay > timedelta(0):
            try:
                await workflow.wait_condition(lambda: self._decided or self._changed, timeout=delay)
                return False
            except TimeoutError:
                pass
        return not self._decided

    def _apply(self, name: str, state: ClockState) -> None:
        # The stored clock wins: an extension whose signal was lost is still honoured.
        self._decided = self._decided or state.decided
        if state.clock != self._clock:
            self._clock = state.clock
            return
        if name == REMIND_ACTIVITY:
            self._reminded = state.done
        else:
            self._overdue = state.done

    @workflow.signal
    def extend(self, clock: ApplicationClock) -> None:
        reminder_ahead = self._clock is None or clock.reminder_at > self._clock.reminder_at
        self._clock = clock
        self._reminded = self._reminded and not reminder_ahead
        self._overdue = False
        self._changed = True

    @workflow.signal
    def decide(self) -> None:
        self._decided = True

    @workflow.query
    def status(self) -> dict[str, bool]:
        return {"decided": self._decided, "reminded": self._reminded, "overdue": self._overdue}


@workflow.defn(name=COMPETITION_WORKFLOW)
class CompetitionWorkflow:
    """Open -> timer to the tender deadline -> close (activity: evaluated at once when
    price only, else ``evaluation`` until the evaluators' scores are ranked over HTTP)
    -> wait for the commissioner's award (or "no suitable bid", which may reopen a lower
    tier)."""

    def __init__(self) -> None:
        self._award: AwardSignal | None = None

    @workflow.run
    async def run(self, clock: CompetitionClock) -> str:
        deadline = clock.deadline_at
        while True:
            delay = deadline - workflow.now()
            if delay > timedelta(0):
                await asyncio.sleep(delay.total_seconds())
            state = await self._close(clock.competition_id)
            if state.status in FINAL_STATUSES:
                return state.status
            if state.status == d.CompetitionStatus.OPEN.value:
                deadline = state.deadline_at  # a new round, or the deadline moved
                continue
            signal = await self._wait_for_award(clock.competition_id)
            if signal.outcome != "reopened":
                return signal.outcome
            deadline = signal.deadline_at or workflow.now()

    async def _close(self, competition_id: str) -> CompetitionState:
        return await workflow.execute_activity(
            CLOSE_ACTIVITY,
            CompetitionCheck(competition_id=competition_id, now=workflow.now()),
            result_type=CompetitionState,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )

    async def _wait_for_award(self, competition_id: str) -> AwardSignal:
        while True:
            try:
                await workflow.wait_condition(
                    lambda: self._award is not None, timeout=AWARD_RECHECK
                )
            except TimeoutError:
                state = await self._close(competition_id)
                if state.status in FINAL_STATUSES:
                    outcome: Literal["awarded", "escalated"] = (
                        "awarded" if state.status == "awarded" else "escalated"
                    )
                    return AwardSignal(outcome=outcome)
                if state.status == d.CompetitionStatus.OPEN.value:
                    return AwardSignal(outcome="reopened", deadline_at=state.deadline_at)
                continue
            signal, self._award = self._award, None
            assert signal is not None
            return signal

    @workflow.signal
    def award_decided(self, signal: AwardSignal) -> None:
        self._award = signal


@workflow.defn(name=DECLARATION_WORKFLOW)
class SelfDeclarationWorkflow:
    """A renewed self-declaration (reg 34(25)): wait for the answer until the end of its
    fifth working day, then raise the overdue alert (the activity re-reads the request,
    so a lost answer signal changes nothing)."""

    def __init__(self) -> None:
        self._answered = False

    @workflow.run
    async def run(self, clock: DeclarationClock) -> str:
        while True:
            delay = clock.due_at - workflow.now()
            if delay > timedelta(0):
                try:
                    await workflow.wait_condition(lambda: self._answered, timeout=delay)
                    return "answered"
                except TimeoutError:
                    pass
            done = await workflow.execute_activity(
                DECLARATION_OVERDUE_ACTIVITY,
                DeclarationCheck(request_id=clock.request_id, now=workflow.now()),
                result_type=bool,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
            )
            if done:
                return "answered" if self._answered else "overdue"
            await asyncio.sleep(60)  # not yet due by the stored clock: look again

    @workflow.signal
    def answer(self) -> None:
        self._answered = True


WORKFLOWS: list[type] = [
    ApplicationEvaluationWorkflow,
    CompetitionWorkflow,
    SelfDeclarationWorkflow,
]


# ------------------------------------------------- starting and signalling (client side)

log = get_logger(__name__)


def application_workflow_id(application_id: str) -> str:
    return f"application-{application_id}"


def competition_workflow_id(competition_id: str) -> str:
    return f"competition-{competition_id}"


def declaration_workflow_id(request_id: str) -> str:
    return f"self-declaration-{request_id}"


async def start_declaration_workflow(runtime: ServiceRuntime, clock: DeclarationClock) -> None:
    await _start(runtime, DECLARATION_WORKFLOW, clock, declaration_workflow_id(clock.request_id))


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


async def start_application_workflow(runtime: ServiceRuntime, clock: ApplicationClock) -> None:
    await _start(
        runtime, APPLICATION_WORKFLOW, clock, application_workflow_id(clock.application_id)
    )


async def start_competition_workflow(
    runtime: ServiceRuntime, competition_id: str, deadline_at: datetime
) -> None:
    clock = CompetitionClock(competition_id=competition_id, deadline_at=deadline_at)
    await _start(runtime, COMPETITION_WORKFLOW, clock, competition_workflow_id(competition_id))


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
