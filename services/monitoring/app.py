"""Wiring of monitoring: what it publishes, consumes, serves and runs."""

from __future__ import annotations

from pathlib import Path

from services.monitoring import (
    activities,
    api,
    kpi_due_api,
    notification_api,
    notification_handlers,
    provider_file_api,
    recommendations_api,
    workflows,
)
from shared.contracts import quality_v1
from shared.runtime import ServiceDefinition

definition = ServiceDefinition(
    name="monitoring",
    title="send-dps monitoring",
    description="Quality evidence, alert rules and the monitoring officers' inbox.",
    migrations_dir=Path(__file__).parent / "migrations",
    publishes=[quality_v1.TOPIC],
    routers=[
        api.router,
        provider_file_api.router,
        recommendations_api.router,
        kpi_due_api.router,
        notification_api.router,
    ],
    subscriptions=notification_handlers.subscriptions,
    workflows=workflows.WORKFLOWS,
    activities=activities.activities,
    on_start=[activities.start_background],
)
