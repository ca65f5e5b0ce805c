"""Temporal workflows of monitoring: escalation of a critical alert nobody acknowledged.

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


WORKFLOWS: list[type] = [AlertEscalationWorkflow]
