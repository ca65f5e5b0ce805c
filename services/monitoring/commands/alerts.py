"""The officers' work on alerts (assign, acknowledge, resolve), escalation of critical
alerts nobody acknowledged, and the termly "no KPI return" check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from services.monitoring import clocks, domain, events, store
from services.monitoring.commands.assessment import assess
from services.monitoring.models import AlertRow
from services.monitoring.settings import MonitoringSettings
from services.monitoring.workflow_types import EscalationInput, KpiCheckInput, KpiCheckPlan
from shared.infra_models import utcnow
from shared.logging import get_logger
from shared.runtime import ServiceRuntime
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work
from shared.working_days import working_day_deadline

log = get_logger(__name__)

# ------------------------------------------------------------------ officers' actions


def _apply(alert: domain.Alert, action: str, now: Any, details: dict[str, Any]) -> domain.Alert:
    officer = str(details.get("officer_id", ""))
    if action == "assigned":
        return alert.assign(officer, now)
    if action == "acknowledged":
        return alert.acknowledge(officer, now)
    return alert.resolve(officer, str(details.get("outcome", "")), now)


async def transition(
    uow: UnitOfWork, actor: Actor, alert_id: str, action: str, **details: Any
) -> AlertRow:
    """Apply one officer action to an alert, emit its event and audit it, atomically."""
    row = await store.alert_row(uow, alert_id)
    changed = _apply(store.alert_of(row), action, utcnow(), details)
    uow.session.add(store.copy_alert(changed, row))
    event = events.alert_transitioned(changed, action)
    if event is not None:
        uow.emit(event)
    uow.audit(actor, f"alert.{action}", "alert", alert_id, **details)
    return row


# -------------------------------------------------------------------- escalation


async def escalate(runtime: ServiceRuntime, params: EscalationInput) -> bool:
    """Escalate the alert if it is still open (unacknowledged) at its deadline."""
    settings = MonitoringSettings()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await uow.session.get(AlertRow, params.alert_id)
        if row is None:
            return False
        alert, now = store.alert_of(row), utcnow()
        # The workflow calls this only once the deadline has passed on its clock
        # (which tests and demos may fast-forward), so only the alert's state is
        # checked again here: acknowledged or already escalated means no.
        if not domain.needs_escalation(alert, params.deadline, params.deadline):
            return False
        escalated = alert.escalate(now, escalated_to=settings.escalated_to)
        uow.session.add(store.copy_alert(escalated, row))
        for channel in ("email", "webhook"):
            store.queue_delivery(uow, row.alert_id, channel, "escalated")
        uow.emit(events.alert_escalated(escalated, params.deadline, now, settings.escalated_to))
    return True


async def start_missing_workflows(runtime: ServiceRuntime, limit: int = 100) -> int:
    """Start the escalation workflow of every open critical alert that lacks one.

    Idempotent by workflow id, so a crash between starting and marking only repeats a
    start that Temporal refuses as already started.
    """
    if runtime.temporal is None:
        return 0
    async with runtime.db.session() as session:
        rows = await store.critical_alerts_without_workflow(session, limit)
    for row in rows:
        await clocks.start_escalation(runtime, row.alert_id, row.escalation_deadline or utcnow())
        async with runtime.db.transaction() as session:
            await session.execute(
                update(AlertRow)
                .where(col(AlertRow.alert_id) == row.alert_id)
                .values(workflow_started_at=utcnow())
            )
    return len(rows)


# ------------------------------------------------------------- missing KPI returns


def kpi_deadline(term: str, settings: MonitoringSettings | None = None) -> datetime:
    settings = settings or MonitoringSettings()
    return domain.kpi_return_deadline(term, working_day_deadline, settings.kpi_return_working_days)


def plan_kpi_check(params: KpiCheckInput) -> KpiCheckPlan:
    settings = MonitoringSettings()
    term = params.term or domain.first_term_due_after(
        utcnow(), working_day_deadline, settings.kpi_return_working_days
    )
    return KpiCheckPlan(
        term=term, deadline=kpi_deadline(term, settings), next_term=domain.next_term(term)
    )


async def raise_missing_kpi_alerts(runtime: ServiceRuntime, term: str, chunk: int = 200) -> int:
    """Raise "no KPI return" for every placement active in `term` that has no return.

    Idempotent: the evidence id is "kpi-missing:<placement>:<term>" and evidence already
    recorded is skipped, so a rerun (retry, restart, replay, a second process) raises
    nothing twice, and an alert resolved by an officer is not raised again. A return that
    arrives late is simply recorded; the officer resolves the alert.
    """
    async with runtime.db.session() as session:
        placements = await store.placements_without_return(session, term)
    missing = domain.missing_kpi_returns(placements, (), term)
    raised = 0
    for start in range(0, len(missing), chunk):
        batch = missing[start : start + chunk]
        async with unit_of_work(runtime.db, runtime.source) as uow:
            known = await store.known_evidence(uow, [e.evidence_id for e in batch])
            for evidence in batch:
                if evidence.evidence_id not in known:
                    raised += len(await assess(uow, evidence))
    log.info("kpi_check.done", term=term, missing=len(missing), alerts_raised=raised)
    return raised
