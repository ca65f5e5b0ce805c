"""Starting, poking and sweeping the placements workflows.

Workflows are started and signalled by their registered type names and with the inputs
of ``workflow_types`` (this module must not import ``workflows``). Starting is idempotent:
a workflow already running for a placement (or block contract) is left alone, and a start
that fails is retried by the sweep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from sqlmodel import select
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from services.placements.models import BlockContractRow, PlacementRow
from services.placements.workflow_types import (
    BLOCK_RENEWAL_WORKFLOW,
    LIFECYCLE_WORKFLOW,
    REFRESH_SIGNAL,
    BlockRenewalInput,
    LifecycleInput,
    block_workflow_id,
    workflow_id,
)
from shared.logging import get_logger
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork

__all__ = [
    "SWEEP_INTERVAL_S",
    "block_workflow_id",
    "lifecycle_sweep",
    "poke",
    "poke_after_commit",
    "poke_blocks",
    "poke_blocks_after_commit",
    "start_after_commit",
    "start_block_after_commit",
    "start_block_renewals",
    "start_lifecycle",
    "start_lifecycles",
    "sweep_once",
    "workflow_id",
]

log = get_logger(__name__)
SWEEP_INTERVAL_S = 30.0


async def start_lifecycle(client: Client, task_queue: str, placement_id: str) -> None:
    """Start the placement's workflow; one already running (or done) is fine."""
    try:
        await client.start_workflow(
            LIFECYCLE_WORKFLOW,
            LifecycleInput(placement_id=placement_id),
            id=workflow_id(placement_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass


async def _mark_started(
    runtime: ServiceRuntime, row_type: type[PlacementRow] | type[BlockContractRow], key: str
) -> None:
    async with runtime.db.transaction() as session:
        row = await session.get(row_type, key)
        if row is not None:
            row.workflow_started = True
            session.add(row)


async def start_lifecycles(runtime: ServiceRuntime, placement_ids: Iterable[str]) -> None:
    """Start workflows and mark them started (the sweep retries what fails here)."""
    if runtime.temporal is None:
        return
    for placement_id in placement_ids:
        try:
            await start_lifecycle(runtime.temporal, runtime.settings.task_queue, placement_id)
        except RPCError as exc:
            log.warning("lifecycle.start_failed", placement_id=placement_id, error=repr(exc))
            continue
        await _mark_started(runtime, PlacementRow, placement_id)


async def start_block_renewals(runtime: ServiceRuntime, block_ids: Iterable[str]) -> None:
    """Start block renewal workflows and mark them started (idempotent, like placements)."""
    if runtime.temporal is None:
        return
    for block_id in block_ids:
        try:
            await runtime.temporal.start_workflow(
                BLOCK_RENEWAL_WORKFLOW,
                BlockRenewalInput(block_contract_id=block_id),
                id=block_workflow_id(block_id),
                task_queue=runtime.settings.task_queue,
                # A renewed block asks again for its new term: a closed run may be followed.
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            pass
        except RPCError as exc:
            log.warning("block_renewal.start_failed", block_contract_id=block_id, error=repr(exc))
            continue
        await _mark_started(runtime, BlockContractRow, block_id)


async def poke_blocks(runtime: ServiceRuntime, block_ids: Iterable[str]) -> None:
    """Tell running block renewal workflows their block changed, then (re)start any that
    finished (a renewed block asks again before its new term end)."""
    if runtime.temporal is None:
        return
    ids = list(block_ids)
    for block_id in ids:
        try:
            handle = runtime.temporal.get_workflow_handle(block_workflow_id(block_id))
            await handle.signal(REFRESH_SIGNAL)
        except RPCError as exc:
            log.info("block_renewal.poke_skipped", block_contract_id=block_id, error=repr(exc))
    await start_block_renewals(runtime, ids)


def poke_blocks_after_commit(runtime: ServiceRuntime, uow: UnitOfWork, ids: list[str]) -> None:
    if ids and runtime.temporal is not None:
        uow.after_commit(lambda: poke_blocks(runtime, ids))


def start_block_after_commit(runtime: ServiceRuntime, uow: UnitOfWork, ids: list[str]) -> None:
    if ids and runtime.temporal is not None:
        uow.after_commit(lambda: start_block_renewals(runtime, ids))


async def poke(runtime: ServiceRuntime, placement_ids: Iterable[str]) -> None:
    """Tell running workflows their placement changed (best effort: they also re-read
    the placement at every timer)."""
    if runtime.temporal is None:
        return
    for placement_id in placement_ids:
        try:
            handle = runtime.temporal.get_workflow_handle(workflow_id(placement_id))
            await handle.signal(REFRESH_SIGNAL)
        except RPCError as exc:
            log.info("lifecycle.poke_skipped", placement_id=placement_id, error=repr(exc))


def start_after_commit(runtime: ServiceRuntime, uow: UnitOfWork, ids: list[str]) -> None:
    if ids and runtime.temporal is not None:
        uow.after_commit(lambda: start_lifecycles(runtime, ids))


def poke_after_commit(runtime: ServiceRuntime, uow: UnitOfWork, ids: list[str]) -> None:
    if ids and runtime.temporal is not None:
        uow.after_commit(lambda: poke(runtime, ids))


async def sweep_once(runtime: ServiceRuntime) -> int:
    """Start workflows for placements and blocks that lack one; returns how many it tried."""
    async with runtime.db.session() as session:
        rows = await session.exec(
            select(PlacementRow.placement_id).where(
                PlacementRow.workflow_started == False  # noqa: E712
            )
        )
        ids = list(rows.all())
        blocks = await session.exec(
            select(BlockContractRow.block_contract_id).where(
                BlockContractRow.workflow_started == False  # noqa: E712
            )
        )
        block_ids = list(blocks.all())
    await start_lifecycles(runtime, ids)
    await start_block_renewals(runtime, block_ids)
    return len(ids) + len(block_ids)


async def lifecycle_sweep(runtime: ServiceRuntime) -> None:
    """on_start hook: sweep now and then every SWEEP_INTERVAL_S, in the background."""
    if runtime.temporal is None:
        return

    async def loop() -> None:
        while True:
            try:
                await sweep_once(runtime)
            except Exception as exc:  # a database or Temporal blip: try again later
                log.warning("lifecycle.sweep_failed", error=repr(exc))
            await asyncio.sleep(SWEEP_INTERVAL_S)

    runtime.spawn(loop, "placement-lifecycle-sweep")
