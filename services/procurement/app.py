"""Wiring of procurement: what it publishes, consumes, serves and runs."""

from __future__ import annotations

from pathlib import Path

from services.procurement import (
    activities,
    api,
    clocks,
    handlers,
    notice_workflows,
    workflows,
)
from shared.contracts import procurement_v1
from shared.runtime import ServiceDefinition

definition = ServiceDefinition(
    name="procurement",
    title="send-dps procurement",
    description="The Dynamic Purchasing System and its call-off competitions.",
    migrations_dir=Path(__file__).parent / "migrations",
    publishes=[procurement_v1.TOPIC],
    routers=api.ROUTERS,
    subscriptions=handlers.subscriptions,
    workflows=[*workflows.WORKFLOWS, *notice_workflows.NOTICE_WORKFLOWS],
    activities=activities.activities,
    # A crash between a commit and its workflow start loses nothing: start what is missing.
    on_start=[clocks.start_missing_workflows, clocks.start_missing_clocks],
)
