"""Temporal workflows of procurement: the application evaluation clock and the call-off.

Deterministic: no I/O and no clock but workflow.now(); deadlines arrive as absolute
instants (computed by the domain when the application or competition was written) and
activities do the database work, given the workflow's now. Starting and signalling
them is clocks.py's (type names, ids and inputs in workflow_types.py).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Literal

from temporalio import workflow

# Everything but the workflow classes is passed through: re-importing pydantic or the
# ORM in every workflow's sandbox costs seconds per workflow task.
with workflow.unsafe.imports_passed_through():
    from services.procurement import domain as d
    from services.procurement.workflow_types import (
        APPLICATION_WORKFLOW,
        CLOSE_ACTIVITY,
        COMPETITION_WORKFLOW,
        DECLARATION_OVERDUE_ACTIVITY,
        DECLARATION_WORKFLOW,
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
