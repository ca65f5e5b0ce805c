"""Wiring of procurement: what it publishes, consumes, serves and runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from services.procurement import (
    activities,
    api,
    application_extras_api,
    clarifications_api,
    handlers,
    notice_activities,
    notice_workflows,
    notices_api,
    portal_api,
    scheme_list_api,
    workflows,
    worklist_api,
)
from shared.contracts import procurement_v1
from shared.runtime import ServiceDefinition, ServiceRuntime


def _activities(runtime: ServiceRuntime) -> Sequence[Callable[..., Any]]:
    return [*activities.activities(runtime), *notice_activities.notice_activities(runtime)]


definition = ServiceDefinition(
    name="procurement",
    title="send-dps procurement",
    description="The Dynamic Purchasing System and its call-off competitions.",
    migrations_dir=Path(__file__).parent / "migrations",
    publishes=[procurement_v1.TOPIC],
    routers=[
        api.router,
        application_extras_api.router,
        clarifications_api.router,
        notices_api.router,
        worklist_api.router,
        portal_api.router,
        scheme_list_api.router,
    ],
    subscriptions=handlers.subscriptions,
    workflows=[*workflows.WORKFLOWS, *notice_workflows.NOTICE_WORKFLOWS],
    activities=_activities,
    # A crash between a commit and its workflow start loses nothing: start what is missing.
    on_start=[workflows.start_missing_workflows, notice_workflows.start_missing_clocks],
)
