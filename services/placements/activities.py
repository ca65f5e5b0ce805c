"""Temporal activities of the placements service: the I/O its workflows need. Each reads
through ``store`` or takes its step through ``commands``, idempotently (an activity
retried after a crash emits nothing twice). Names are in ``workflow_types``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio import activity

from services.placements import commands, store
from services.placements.workflow_types import (
    ADVANCE_ACTIVITY,
    BLOCK_SNAPSHOT_ACTIVITY,
    REQUEST_BLOCK_RENEWAL_ACTIVITY,
    SNAPSHOT_ACTIVITY,
    TAKE_STEP_ACTIVITY,
    BlockSnapshot,
    Snapshot,
    StepRequest,
)
from shared.db import Database
from shared.runtime import ServiceRuntime
from shared.unit_of_work import unit_of_work


class PlacementActivities:
    """Activities bound to one service's database."""

    def __init__(self, db: Database, source: str) -> None:
        self.db = db
        self.source = source

    @activity.defn(name=SNAPSHOT_ACTIVITY)
    async def snapshot(self, placement_id: str) -> Snapshot | None:
        async with self.db.session() as session:
            return await store.lifecycle_snapshot(session, placement_id)

    @activity.defn(name=ADVANCE_ACTIVITY)
    async def advance(self, request: StepRequest) -> Snapshot | None:
        """Take a step and return the placement as it then is: one call per wake-up."""
        await self.take_step(request)
        return await self.snapshot(request.placement_id)

    @activity.defn(name=TAKE_STEP_ACTIVITY)
    async def take_step(self, request: StepRequest) -> None:
        async with unit_of_work(self.db, self.source) as uow:
            await commands.take_lifecycle_step(uow, request)


class BlockActivities:
    """Activities of the block contract renewal workflow."""

    def __init__(self, db: Database, source: str) -> None:
        self.db = db
        self.source = source

    @activity.defn(name=BLOCK_SNAPSHOT_ACTIVITY)
    async def block_snapshot(self, block_contract_id: str) -> BlockSnapshot | None:
        async with self.db.session() as session:
            return await store.block_snapshot(session, block_contract_id)

    @activity.defn(name=REQUEST_BLOCK_RENEWAL_ACTIVITY)
    async def request_block_renewal(self, block_contract_id: str) -> None:
        async with unit_of_work(self.db, self.source) as uow:
            await commands.request_block_renewal(uow, block_contract_id)


def activities(runtime: ServiceRuntime) -> Sequence[Callable[..., Any]]:
    bound = PlacementActivities(runtime.db, runtime.source)
    blocks = BlockActivities(runtime.db, runtime.source)
    return [
        bound.snapshot,
        bound.advance,
        bound.take_step,  # histories recorded before the local-steps patch
        blocks.block_snapshot,
        blocks.request_block_renewal,
    ]
