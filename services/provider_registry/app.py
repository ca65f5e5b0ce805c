"""Wiring of the provider register: what it publishes, consumes, serves and runs."""

from __future__ import annotations

from pathlib import Path

from services.provider_registry import activities, api, clocks, handlers, workflows
from services.provider_registry.clocks import ensure_sweep_schedule
from shared.contracts import providers_v1
from shared.runtime import ServiceDefinition

__all__ = ["definition", "ensure_sweep_schedule"]


definition = ServiceDefinition(
    name="provider_registry",
    title="send-dps provider register",
    description="The council's record of every NMISS school it may place with.",
    migrations_dir=Path(__file__).parent / "migrations",
    publishes=[providers_v1.TOPIC],
    routers=api.routers,
    subscriptions=handlers.subscriptions,
    workflows=workflows.WORKFLOWS,
    activities=activities.activities,
    on_start=[clocks.ensure_sweep_schedule],
)
