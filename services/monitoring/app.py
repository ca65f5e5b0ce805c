"""Wiring of monitoring: what it publishes, consumes, serves and runs."""

from __future__ import annotations

from pathlib import Path

from services.monitoring import activities, api, handlers, workflows
from shared.contracts import quality_v1
from shared.runtime import ServiceDefinition

definition = ServiceDefinition(
    name="monitoring",
    title="send-dps monitoring",
    description="Quality evidence, alert rules and the monitoring officers' inbox.",
    migrations_dir=Path(__file__).parent / "migrations",
    publishes=[quality_v1.TOPIC],
    routers=api.routers,
    subscriptions=handlers.subscriptions,
    workflows=workflows.WORKFLOWS,
    activities=activities.activities,
    on_start=[activities.start_background],
)
