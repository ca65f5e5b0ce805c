"""Temporal activities of the provider register: the I/O its workflows need."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from temporalio import activity

from services.provider_registry.commands import sweep_document_expiry
from services.provider_registry.workflow_types import SWEEP_ACTIVITY, SweepResult
from shared.runtime import ServiceRuntime

__all__ = ["SweepResult", "activities", "sweep_document_expiry"]


def activities(runtime: ServiceRuntime) -> Sequence[Callable[..., Any]]:
    """The activities bound to this runtime's database."""

    @activity.defn(name=SWEEP_ACTIVITY)
    async def sweep(today: date) -> SweepResult:
        return await sweep_document_expiry(runtime.db, runtime.source, today)

    return [sweep]
