"""Starting and signalling monitoring's workflows, by their registered type names
(`workflow_types`), never by importing the workflow classes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.monitoring.workflow_types import (
    ACKNOWLEDGE_SIGNAL,
    ESCALATION_WORKFLOW,
    KPI_CHECK_WORKFLOW,
    KPI_CHECK_WORKFLOW_ID,
    EscalationInput,
    KpiCheckInput,
    escalation_workflow_id,
)
from shared.logging import get_logger
from shared.runtime import ServiceRuntime

log = get_logger(__name__)


async def start_escalation(runtime: ServiceRuntime, alert_id: str, deadline: datetime) -> bool:
    """Start the alert's escalation workflow; False if Temporal is absent or it runs already
    (idempotent by workflow id)."""
    if runtime.temporal is None:
        return False
    try:
        await runtime.temporal.start_workflow(
            ESCALATION_WORKFLOW,
            EscalationInput(alert_id=alert_id, deadline=deadline),
            id=escalation_workflow_id(alert_id),
            task_queue=runtime.settings.task_queue,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def signal_acknowledged(runtime: ServiceRuntime, alert_id: str) -> None:
    """Tell the workflow early; best effort, since the activity re-checks the database."""
    if runtime.temporal is None:
        return
    handle: WorkflowHandle[Any, Any] = runtime.temporal.get_workflow_handle(
        escalation_workflow_id(alert_id)
    )
    try:
        await handle.signal(ACKNOWLEDGE_SIGNAL)
    except Exception as exc:  # not started yet, or already finished: both harmless
        log.debug("escalation.signal_skipped", alert_id=alert_id, error=repr(exc))


async def start_kpi_check(runtime: ServiceRuntime) -> bool:
    """Start the one KpiReturnCheck workflow unless it runs already (fixed id)."""
    if runtime.temporal is None:
        return False
    try:
        await runtime.temporal.start_workflow(
            KPI_CHECK_WORKFLOW,
            KpiCheckInput(),
            id=KPI_CHECK_WORKFLOW_ID,
            task_queue=runtime.settings.task_queue,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True
