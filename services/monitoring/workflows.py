"""Temporal workflows of monitoring: escalation of a critical alert nobody acknowledged,
and the termly check for placements with no KPI return.

Deterministic: the deadline is computed outside (from the working-day calendar) and
passed in; the workflow only waits for an acknowledgement signal or the deadline, then
asks an activity to escalate. The activity re-checks the alert in the database, so an
acknowledgement that reached the API but not the signal never escalates wrongly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

WORKFLOW_ID_PREFIX = "alert-escalation-"


def escalation_workflow_id(alert_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{alert_id}"


class EscalationInput(BaseModel):
    alert_id: str
    deadline: AwareDatetime


class EscalationResult(BaseModel):
    alert_id: str
    escalated: bool


@workflow.defn(name="AlertEscalation")
class AlertEscalationWorkflow:
    def __init__(self) -> None:
        self._acknowledged = False

    @workflow.signal
    def acknowledge(self) -> None:
        self._acknowledged = True

    @workflow.run
    async def run(self, params: EscalationInput) -> EscalationResult:
        wait = _until(params.deadline, workflow.now())
        if wait > timedelta(0):
            try:
                await workflow.wait_condition(lambda: self._acknowledged, timeout=wait)
            except TimeoutError:  # asyncio.TimeoutError is TimeoutError since 3.11
                pass
        if self._acknowledged:
            return EscalationResult(alert_id=params.alert_id, escalated=False)
        escalated: bool = await workflow.execute_activity(
            "escalate_alert",
            params,
            result_type=bool,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return EscalationResult(alert_id=params.alert_id, escalated=escalated)


def _until(deadline: datetime, now: datetime) -> timedelta:
    return deadline - now


KPI_CHECK_WORKFLOW_ID = "kpi-return-check"


class KpiCheckInput(BaseModel):
    """Which term to check next; None: the earliest term whose return deadline is ahead."""

    term: str | None = None
    once: bool = False  # check one term and finish (tests, one-off back-fills)


class KpiCheckPlan(BaseModel):
    term: str
    deadline: AwareDatetime  # the term's KPI return deadline (working-day convention)
    next_term: str


class KpiCheckResult(BaseModel):
    term: str
    alerts_raised: int


@workflow.defn(name="KpiReturnCheck")
class KpiReturnCheckWorkflow:
    """One long-lived workflow (fixed id): sleep until a term's KPI return deadline,
    raise "no KPI return" for every placement that still owes one, then continue as new
    with the next term. The deadline comes from an activity (the calendar is I/O-free
    but not sandbox material), the check itself is idempotent, so a retried or replayed
    check raises nothing twice.
    """

    @workflow.run
    async def run(self, params: KpiCheckInput) -> KpiCheckResult:
        plan: KpiCheckPlan = await workflow.execute_activity(
            "plan_kpi_check",
            params,
            result_type=KpiCheckPlan,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        wait = _until(plan.deadline, workflow.now())
        if wait > timedelta(0):
            await workflow.sleep(wait)
        raised: int = await workflow.execute_activity(
            "check_missing_kpi_returns",
            plan.term,
            result_type=int,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
        if params.once:
            return KpiCheckResult(term=plan.term, alerts_raised=raised)
        workflow.continue_as_new(KpiCheckInput(term=plan.next_term))


WORKFLOWS: list[type] = [AlertEscalationWorkflow, KpiReturnCheckWorkflow]
