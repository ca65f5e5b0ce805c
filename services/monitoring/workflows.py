"""Temporal workflows of monitoring: escalation of a critical alert nobody acknowledged,
and the termly check for placements with no KPI return.

Deterministic: the deadline is computed outside (from the working-day calendar) and
passed in; the workflow only waits for an acknowledgement signal or the deadline, then
asks an activity to escalate. The activity re-checks the alert in the database, so an
acknowledgement that reached the API but not the signal never escalates wrongly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from services.monitoring.workflow_types import (
    CHECK_MISSING_KPI_RETURNS_ACTIVITY,
    ESCALATE_ACTIVITY,
    ESCALATION_WORKFLOW,
    KPI_CHECK_WORKFLOW,
    KPI_CHECK_WORKFLOW_ID,
    PLAN_KPI_CHECK_ACTIVITY,
    EscalationInput,
    EscalationResult,
    KpiCheckInput,
    KpiCheckPlan,
    KpiCheckResult,
    escalation_workflow_id,
)


@workflow.defn(name=ESCALATION_WORKFLOW)
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
            ESCALATE_ACTIVITY,
            params,
            result_type=bool,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return EscalationResult(alert_id=params.alert_id, escalated=escalated)


def _until(deadline: datetime, now: datetime) -> timedelta:
    return deadline - now


@workflow.defn(name=KPI_CHECK_WORKFLOW)
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
            PLAN_KPI_CHECK_ACTIVITY,
            params,
            result_type=KpiCheckPlan,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        wait = _until(plan.deadline, workflow.now())
        if wait > timedelta(0):
            await workflow.sleep(wait)
        raised: int = await workflow.execute_activity(
            CHECK_MISSING_KPI_RETURNS_ACTIVITY,
            plan.term,
            result_type=int,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
        if params.once:
            return KpiCheckResult(term=plan.term, alerts_raised=raised)
        workflow.continue_as_new(KpiCheckInput(term=plan.next_term))


WORKFLOWS: list[type] = [AlertEscalationWorkflow, KpiReturnCheckWorkflow]

__all__ = [  # the inputs live in workflow_types; tests import them from here too
    "KPI_CHECK_WORKFLOW_ID",
    "WORKFLOWS",
    "AlertEscalationWorkflow",
    "EscalationInput",
    "EscalationResult",
    "KpiCheckInput",
    "KpiCheckPlan",
    "KpiCheckResult",
    "KpiReturnCheckWorkflow",
    "escalation_workflow_id",
]
