"""I/O of monitoring beyond Kafka: the escalation activity, the sweep that gives every
critical alert its escalation workflow, the termly "no KPI return" check and its
workflow, and outbound delivery (SMTP email, webhook).

Delivery and the sweep are background loops started by `start_background` (an on_start
hook), so neither ever runs inside the transaction that raises an alert: the alert
commits first, a `Delivery` row and the alert row itself are the durable to-do list,
and a crash at any point only delays the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import col, select
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.monitoring import domain, mailer
from services.monitoring.handlers import alert_of, alert_payload, assess, copy_alert
from services.monitoring.models import (
    AlertRow,
    Delivery,
    EvidenceRecord,
    KpiReturnRow,
    PlacementFact,
)
from services.monitoring.notification_sender import send_due_notifications
from services.monitoring.settings import MonitoringSettings
from services.monitoring.workflows import (
    KPI_CHECK_WORKFLOW_ID,
    AlertEscalationWorkflow,
    EscalationInput,
    KpiCheckInput,
    KpiCheckPlan,
    KpiReturnCheckWorkflow,
    escalation_workflow_id,
)
from shared.contracts import quality_v1
from shared.infra_models import utcnow
from shared.logging import get_logger
from shared.runtime import ProcessRole, ServiceRuntime
from shared.unit_of_work import unit_of_work
from shared.working_days import working_day_deadline

log = get_logger(__name__)


# ------------------------------------------------------------------ escalation


def escalate_activity(runtime: ServiceRuntime) -> Callable[..., Any]:
    @activity.defn(name="escalate_alert")
    async def escalate_alert(params: EscalationInput) -> bool:
        """Escalate the alert if it is still open (unacknowledged) at its deadline."""
        settings = MonitoringSettings()
        async with unit_of_work(runtime.db, runtime.source) as uow:
            row = await uow.session.get(AlertRow, params.alert_id)
            if row is None:
                return False
            alert, now = alert_of(row), utcnow()
            # The workflow calls this only once the deadline has passed on its clock
            # (which tests and demos may fast-forward), so only the alert's state is
            # checked again here: acknowledged or already escalated means no.
            if not domain.needs_escalation(alert, params.deadline, params.deadline):
                return False
            escalated = alert.escalate(now, escalated_to=settings.escalated_to)
            uow.session.add(copy_alert(escalated, row))
            for channel in ("email", "webhook"):
                uow.session.add(
                    Delivery(alert_id=row.alert_id, channel=channel, purpose="escalated")
                )
            uow.emit_raw(
                quality_v1.TOPIC,
                "quality.alert.escalated",
                row.alert_id,
                quality_v1.AlertEscalated(
                    alert_id=row.alert_id,
                    severity=escalated.severity,
                    raised_at=escalated.raised_at,
                    deadline=params.deadline,
                    escalated_at=now,
                    escalated_to=settings.escalated_to,
                    provider_id=escalated.provider_id,
                    placement_id=escalated.placement_id,
                ),
            )
        return True

    return escalate_alert


async def start_missing_workflows(runtime: ServiceRuntime, limit: int = 100) -> int:
    """Start the escalation workflow of every open critical alert that lacks one.

    Idempotent by workflow id, so a crash between starting and marking only repeats a
    start that Temporal refuses as already started.
    """
    client = runtime.temporal
    if client is None:
        return 0
    async with runtime.db.session() as session:
        rows = (
            await session.exec(
                select(AlertRow)
                .where(
                    AlertRow.severity == domain.Severity.CRITICAL.value,
                    AlertRow.status == domain.AlertStatus.OPEN.value,
                    col(AlertRow.workflow_started_at).is_(None),
                )
                .limit(limit)
            )
        ).all()
    for row in rows:
        deadline = row.escalation_deadline or utcnow()
        try:
            await client.start_workflow(
                AlertEscalationWorkflow.run,
                EscalationInput(alert_id=row.alert_id, deadline=deadline),
                id=escalation_workflow_id(row.alert_id),
                task_queue=runtime.settings.task_queue,
            )
        except WorkflowAlreadyStartedError:
            pass
        async with runtime.db.transaction() as session:
            await session.execute(
                update(AlertRow)
                .where(col(AlertRow.alert_id) == row.alert_id)
                .values(workflow_started_at=utcnow())
            )
    return len(rows)


async def signal_acknowledged(runtime: ServiceRuntime, alert_id: str) -> None:
    """Tell the workflow early; best effort, since the activity re-checks the database."""
    if runtime.temporal is None:
        return
    handle: WorkflowHandle[Any, Any] = runtime.temporal.get_workflow_handle(
        escalation_workflow_id(alert_id)
    )
    try:
        await handle.signal(AlertEscalationWorkflow.acknowledge)
    except Exception as exc:  # not started yet, or already finished: both harmless
        log.debug("escalation.signal_skipped", alert_id=alert_id, error=repr(exc))


# ------------------------------------------------------------- missing KPI returns


def kpi_deadline(term: str, settings: MonitoringSettings | None = None) -> datetime:
    settings = settings or MonitoringSettings()
    return domain.kpi_return_deadline(term, working_day_deadline, settings.kpi_return_working_days)


async def raise_missing_kpi_alerts(runtime: ServiceRuntime, term: str, chunk: int = 200) -> int:
    """Raise "no KPI return" for every placement active in `term` that has no return.

    Idempotent: the evidence id is "kpi-missing:<placement>:<term>" and evidence already
    recorded is skipped, so a rerun (retry, restart, replay, a second process) raises
    nothing twice, and an alert resolved by an officer is not raised again. A return that
    arrives late is simply recorded; the officer resolves the alert.
    """
    first, last = domain.term_window(term)
    async with runtime.db.session() as session:
        facts = (
            await session.exec(
                select(PlacementFact).where(
                    col(PlacementFact.starts_on) <= last,
                    col(PlacementFact.ends_on).is_(None) | (col(PlacementFact.ends_on) >= first),
                )
            )
        ).all()
        returned = set(
            (
                await session.exec(
                    select(KpiReturnRow.placement_id).where(KpiReturnRow.term == term)
                )
            ).all()
        )
    placements = [
        domain.PlacementRecord(
            placement_id=f.placement_id,
            provider_id=f.provider_id,
            primary_need=f.primary_need,
            starts_on=f.starts_on,
            ends_on=f.ends_on if f.ends_on is None or f.ends_on >= f.starts_on else f.starts_on,
            weekly_fee=f.weekly_fee,
            on_contract=f.on_contract,
        )
        for f in facts
        if f.placement_id not in returned
    ]
    missing = domain.missing_kpi_returns(placements, (), term)
    raised = 0
    for start in range(0, len(missing), chunk):
        batch = missing[start : start + chunk]
        async with unit_of_work(runtime.db, runtime.source) as uow:
            known = set(
                (
                    await uow.session.exec(
                        select(EvidenceRecord.evidence_id).where(
                            col(EvidenceRecord.evidence_id).in_([e.evidence_id for e in batch])
                        )
                    )
                ).all()
            )
            for evidence in batch:
                if evidence.evidence_id not in known:
                    raised += len(await assess(uow, evidence))
    log.info("kpi_check.done", term=term, missing=len(missing), alerts_raised=raised)
    return raised


def kpi_activities(runtime: ServiceRuntime) -> list[Callable[..., Any]]:
    @activity.defn(name="plan_kpi_check")
    async def plan_kpi_check(params: KpiCheckInput) -> KpiCheckPlan:
        settings = MonitoringSettings()
        term = params.term or domain.first_term_due_after(
            utcnow(), working_day_deadline, settings.kpi_return_working_days
        )
        return KpiCheckPlan(
            term=term, deadline=kpi_deadline(term, settings), next_term=domain.next_term(term)
        )

    @activity.defn(name="check_missing_kpi_returns")
    async def check_missing_kpi_returns(term: str) -> int:
        return await raise_missing_kpi_alerts(runtime, term)

    return [plan_kpi_check, check_missing_kpi_returns]


async def start_kpi_check(runtime: ServiceRuntime) -> bool:
    """Start the one KpiReturnCheck workflow unless it runs already (fixed id)."""
    if runtime.temporal is None:
        return False
    try:
        await runtime.temporal.start_workflow(
            KpiReturnCheckWorkflow.run,
            KpiCheckInput(),
            id=KPI_CHECK_WORKFLOW_ID,
            task_queue=runtime.settings.task_queue,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


# -------------------------------------------------------------------- delivery


def _email(settings: MonitoringSettings, row: AlertRow, purpose: str) -> EmailMessage:
    message = EmailMessage()
    prefix = "ESCALATED " if purpose == "escalated" else ""
    message["Subject"] = f"[DPS {row.severity}] {prefix}{row.title}"
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(settings.recipients)
    # Only references, never incident summaries: email leaves the council's systems.
    message.set_content(
        "\n".join(
            [
                f"Alert {row.alert_id} ({row.severity}): {row.title}",
                f"Target: {row.target} {row.target_id}",
                f"Provider: {row.provider_id or '-'}",
                f"Cause: {row.cause}",
                f"Raised at: {row.raised_at.isoformat()}",
                f"Status: {row.status}",
                "Work it in the monitoring inbox: GET /alerts/" + row.alert_id,
            ]
        )
    )
    return message


async def _deliver(settings: MonitoringSettings, delivery: Delivery, row: AlertRow) -> None:
    """Send one delivery on its (configured) channel; raises if it did not go."""
    if delivery.channel == "email":
        await mailer.send(settings, _email(settings, row, delivery.purpose))
        return
    body = alert_payload(alert_of(row)).model_dump(mode="json") | {
        "purpose": delivery.purpose,
        "status": row.status,
    }
    async with httpx.AsyncClient(timeout=settings.webhook_timeout_s) as client:
        response = await client.post(settings.webhook_url, json=body)
        response.raise_for_status()


async def _claim(runtime: ServiceRuntime, delivery: Delivery, lease: timedelta) -> bool:
    """Take a delivery for `lease` so another process does not send it at the same time."""
    async with runtime.db.transaction() as session:
        result = await session.execute(
            update(Delivery)
            .where(
                col(Delivery.id) == delivery.id,
                col(Delivery.status) == "pending",
                col(Delivery.next_attempt_at) == delivery.next_attempt_at,
            )
            .values(next_attempt_at=utcnow() + lease)
        )
    return bool(getattr(result, "rowcount", 0))


def _backoff(settings: MonitoringSettings, attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.delivery_backoff_s * 2 ** (attempts - 1), 300))


def _configured(settings: MonitoringSettings, channel: str) -> bool:
    if channel == "email":
        return bool(settings.smtp_host and settings.recipients)
    return bool(settings.webhook_url)


async def deliver_due(
    runtime: ServiceRuntime, settings: MonitoringSettings, limit: int = 200
) -> int:
    """Send every delivery that is due; returns how many were attempted."""
    now = utcnow()
    async with runtime.db.session() as session:
        due = (
            await session.exec(
                select(Delivery)
                .where(Delivery.status == "pending", col(Delivery.next_attempt_at) <= now)
                .order_by(col(Delivery.id))
                .limit(limit)
            )
        ).all()
    unconfigured = [d.id for d in due if not _configured(settings, d.channel)]
    if unconfigured:
        # One write for all of them: on SQLite every extra write transaction queues
        # behind the consumer's and the relay's.
        async with runtime.db.transaction() as session:
            await session.execute(
                update(Delivery)
                .where(col(Delivery.id).in_(unconfigured), col(Delivery.status) == "pending")
                .values(status="skipped")
            )
    for delivery in due:
        if _configured(settings, delivery.channel) and await _claim(
            runtime, delivery, timedelta(seconds=60)
        ):
            await _attempt(runtime, settings, delivery)
    return len(due)


async def _attempt(
    runtime: ServiceRuntime, settings: MonitoringSettings, delivery: Delivery
) -> None:
    async with runtime.db.session() as session:
        row = await session.get(AlertRow, delivery.alert_id)
    values: dict[str, Any]
    try:
        if row is not None:
            await _deliver(settings, delivery, row)
        values = {"status": "sent" if row is not None else "skipped", "sent_at": utcnow()}
    except Exception as exc:
        attempts = delivery.attempts + 1
        failed = attempts >= settings.delivery_max_attempts
        log.warning("delivery.failed", channel=delivery.channel, attempts=attempts, error=repr(exc))
        values = {
            "attempts": attempts,
            "last_error": repr(exc)[:1000],
            "status": "failed" if failed else "pending",
            "next_attempt_at": utcnow() + _backoff(settings, attempts),
        }
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Delivery).where(col(Delivery.id) == delivery.id).values(**values)
        )


# ---------------------------------------------------------------- background


async def _every(seconds: float, name: str, step: Callable[[], Any]) -> None:
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # keep looping: the rows stay due and are retried
            log.warning("monitoring.loop_failed", loop=name, error=repr(exc))
        await asyncio.sleep(seconds)


async def start_background(runtime: ServiceRuntime) -> None:
    """on_start hook: run delivery and the escalation sweep beside the outbox relay."""
    if ProcessRole.RELAY not in runtime.roles:
        return
    settings = MonitoringSettings()
    runtime.spawn(
        _every(settings.delivery_poll_s, "delivery", lambda: deliver_due(runtime, settings)),
        "monitoring-delivery",
    )
    runtime.spawn(
        _every(
            settings.delivery_poll_s,
            "notifications",
            lambda: send_due_notifications(runtime, settings),
        ),
        "monitoring-notifications",
    )
    if runtime.temporal is not None and settings.kpi_check_enabled:
        try:
            await start_kpi_check(runtime)
        except Exception as exc:  # Temporal hiccup: the next start tries again
            log.warning("kpi_check.start_failed", error=repr(exc))
    if runtime.temporal is not None:
        runtime.spawn(
            _every(
                settings.escalation_sweep_s,
                "escalation-sweep",
                lambda: start_missing_workflows(runtime),
            ),
            "monitoring-escalation-sweep",
        )


def activities(runtime: ServiceRuntime) -> Sequence[Callable[..., Any]]:
    return [escalate_activity(runtime), *kpi_activities(runtime)]


__all__ = [
    "MonitoringSettings",
    "activities",
    "deliver_due",
    "raise_missing_kpi_alerts",
    "signal_acknowledged",
    "start_background",
    "start_kpi_check",
    "start_missing_workflows",
]
