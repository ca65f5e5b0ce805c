"""Wiring of placements: what it publishes, consumes, serves and runs."""

from __future__ import annotations

from pathlib import Path

from services.placements import activities, api, clocks, handlers, ingest, retention, workflows
from services.placements.api import returns as returns_api
from shared.contracts import placements_v1
from shared.runtime import ServiceDefinition

definition = ServiceDefinition(
    name="placements",
    title="send-dps placements",
    description="From a child's EHC plan to a managed placement contract.",
    migrations_dir=Path(__file__).parent / "migrations",
    publishes=[placements_v1.TOPIC],
    routers=[api.router, ingest.router, returns_api.router],
    subscriptions=handlers.subscriptions,
    workflows=workflows.WORKFLOWS,
    activities=activities.activities,
    # Workflows for placements whose start after commit failed (Temporal down, crash).
    # Children's data past its retention period is pseudonymised (retention.py).
    on_start=[clocks.lifecycle_sweep, retention.retention_sweep],
)
