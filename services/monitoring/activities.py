"""Temporal activities of monitoring (escalation, the termly "no KPI return" check) and
its background loops (delivery, notification e-mails, the escalation sweep).

The loops are started by `start_background` (an on_start hook), so neither delivery nor
the sweep ever runs inside the transaction that raises an alert: the alert commits
first, a `Delivery` row and the alert row itself are the durable to-do list, and a crash
at any point only delays the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from temporalio import activity

from services.monitoring import clocks
from services.monitoring.commands import alerts
from services.monitoring.delivery.alerts import deliver_due
from services.monitoring.delivery.notification_sender import send_due_notifications
from services.monitoring.settings import MonitoringSettings
from services.monitoring.workflow_types import (
    CHECK_MISSING_KPI_RETURNS_ACTIVITY,
    ESCALATE_ACTIVITY,
    PLAN_KPI_CHECK_ACTIVITY,
    EscalationInput,
    KpiCheckInput,
    KpiCheckPlan,
)
from shared.logging import get_logger
from shared.runtime import ProcessRole, ServiceRuntime

log = get_logger(__name__)


def escalate_activity(runtime: ServiceRuntime) -> Callable[..., Any]:
    @activity.defn(name=ESCALATE_ACTIVITY)
    async def escalate_alert(params: EscalationInput) -> bool:
        """Escalate the alert if it is still open (unacknowledged) at its deadline."""
        return await alerts.escalate(runtime, params)

    return escalate_alert


def kpi_activities(runtime: ServiceRuntime) -> list[Callable[..., Any]]:
    @activity.defn(name=PLAN_KPI_CHECK_ACTIVITY)
    async def plan_kpi_check(params: KpiCheckInput) -> KpiCheckPlan:
        return alerts.plan_kpi_check(params)

    @activity.defn(name=CHECK_MISSING_KPI_RETURNS_ACTIVITY)
    async def check_missing_kpi_returns(term: str) -> int:
        return await alerts.raise_missing_kpi_alerts(runtime, term)

    return [plan_kpi_check, check_missing_kpi_returns]


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
        lambda: _every(
            settings.delivery_poll_s, "delivery", lambda: deliver_due(runtime, settings)
        ),
        "monitoring-delivery",
    )
    runtime.spawn(
        lambda: _every(
            settings.delivery_poll_s,
            "notifications",
            lambda: send_due_notifications(runtime, settings),
        ),
        "monitoring-notifications",
    )
    if runtime.temporal is not None and settings.kpi_check_enabled:
        try:
            await clocks.start_kpi_check(runtime)
        except Exception as exc:  # Temporal hiccup: the next start tries again
            log.warning("kpi_check.start_failed", error=repr(exc))
    if runtime.temporal is not None:
        runtime.spawn(
            lambda: _every(
                settings.escalation_sweep_s,
                "escalation-sweep",
                lambda: alerts.start_missing_workflows(runtime),
            ),
            "monitoring-escalation-sweep",
        )


def activities(runtime: ServiceRuntime) -> Sequence[Callable[..., Any]]:
    return [escalate_activity(runtime), *kpi_activities(runtime)]
