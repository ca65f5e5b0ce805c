"""Monitoring's workflow type names, ids, activity names and inputs/outputs, in one place.

The names and id formats are those of running workflows and recorded histories: never
change them. `clocks` starts workflows by these names, `workflows` defines them.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel

# ------------------------------------------------------------------ escalation

ESCALATION_WORKFLOW = "AlertEscalation"
ACKNOWLEDGE_SIGNAL = "acknowledge"
ESCALATE_ACTIVITY = "escalate_alert"
WORKFLOW_ID_PREFIX = "alert-escalation-"


def escalation_workflow_id(alert_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{alert_id}"


class EscalationInput(BaseModel):
    alert_id: str
    deadline: AwareDatetime


class EscalationResult(BaseModel):
    alert_id: str
    escalated: bool


# ------------------------------------------------------------- missing KPI returns

KPI_CHECK_WORKFLOW = "KpiReturnCheck"
KPI_CHECK_WORKFLOW_ID = "kpi-return-check"
PLAN_KPI_CHECK_ACTIVITY = "plan_kpi_check"
CHECK_MISSING_KPI_RETURNS_ACTIVITY = "check_missing_kpi_returns"


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
