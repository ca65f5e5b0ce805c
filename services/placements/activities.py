"""Temporal activities of the placements service: the I/O its workflows need, and the
starting and poking of lifecycle workflows from handlers, the API and a start-up sweep.

Each step is idempotent in the database (a sent reminder is recorded with it), so an
activity retried after a crash emits nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import select
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from services.placements import domain, handlers
from services.placements.models import (
    BlockContractRow,
    PlacementRow,
    ReviewRow,
    load_block,
    load_placement,
)
from services.placements.workflows import (
    BlockContractRenewalWorkflow,
    BlockRenewalInput,
    BlockSnapshot,
    LifecycleInput,
    PlacementLifecycleWorkflow,
    ReviewInfo,
    Snapshot,
    StepRequest,
)
from shared.contracts import placements_v1
from shared.contracts.placements_v1 import PlacementStatus
from shared.db import Database
from shared.logging import get_logger
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork, unit_of_work

log = get_logger(__name__)
TOPIC = placements_v1.TOPIC
SWEEP_INTERVAL_S = 30.0


class PlacementActivities:
    """Activities bound to one service's database."""

    def __init__(self, db: Database, source: str) -> None:
        self.db = db
        self.source = source

    @activity.defn(name="placements.snapshot")
    async def snapshot(self, placement_id: str) -> Snapshot | None:
        async with self.db.session() as session:
            row = await session.get(PlacementRow, placement_id)
            if row is None:
                return None
            reviews = await session.exec(
                select(ReviewRow)
                .where(ReviewRow.placement_id == placement_id, ReviewRow.outcome == None)  # noqa: E711
                .order_by("due_on")
            )
            review = reviews.first()
        return Snapshot(
            placement_id=placement_id,
            status=row.status,
            start_date=row.start_date,
            term_end=row.term_end,
            end_date=row.end_date,
            notice_period_weeks=row.notice_period_weeks,
            renewal_requested_for=row.renewal_requested_for,
            renewal_overdue_sent_for=row.renewal_overdue_sent_for,
            review=None
            if review is None
            else ReviewInfo(
                review_id=review.review_id,
                due_on=review.due_on,
                reminders_sent=list(review.reminders_sent),
                overdue_sent=review.overdue_sent,
            ),
        )

    @activity.defn(name="placements.advance")
    async def advance(self, request: StepRequest) -> Snapshot | None:
        """Take a step and return the placement as it then is: one call per wake-up."""
        await self.take_step(request)
        return await self.snapshot(request.placement_id)

    @activity.defn(name="placements.take_step")
    async def take_step(self, request: StepRequest) -> None:
        async with unit_of_work(self.db, self.source) as uow:
            placement = await load_placement(uow.session, request.placement_id)
            if placement is None:
                return
            step = request.step
            if step.kind in ("reminder", "overdue"):
                await _review_step(uow, placement, request)
            elif step.kind == "start" and placement.status == PlacementStatus.PENDING:
                at = datetime.now(UTC)
                started = domain.start_placement(
                    placement, placement.start_date, handlers.SERVICE_ACTOR.id, at
                )
                await handlers.record_placement(uow, placement, started)
            elif step.kind == "renewal":
                await _renewal_step(uow, placement)
            elif step.kind == "renewal_overdue":
                await _renewal_overdue_step(uow, placement, request.today)
            elif step.kind == "end" and placement.status in (
                PlacementStatus.ACTIVE,
                PlacementStatus.ENDING,
            ):
                at = datetime.now(UTC)
                ended = domain.complete_end(placement, request.today, handlers.SERVICE_ACTOR.id, at)
                await handlers.record_placement(uow, placement, ended)


async def _review_step(uow: UnitOfWork, placement: domain.Placement, request: StepRequest) -> None:
    row = await uow.session.get(ReviewRow, request.step.review_id)
    if row is None or row.outcome is not None:
        return
    pid = placement.placement_id
    if request.step.kind == "reminder" and request.step.weeks_before is not None:
        weeks = request.step.weeks_before
        if weeks in row.reminders_sent:
            return
        row.reminders_sent = [*row.reminders_sent, weeks]
        payload: Any = placements_v1.PlacementReviewDue(
            placement_id=pid,
            review_id=row.review_id,
            child_ref=placement.child_ref,
            due_on=row.due_on,
            weeks_before=weeks,
        )
        uow.emit_raw(TOPIC, "placement.review.due", pid, payload)
    elif request.step.kind == "overdue" and not row.overdue_sent:
        row.overdue_sent = True
        payload = placements_v1.PlacementReviewOverdue(
            placement_id=pid,
            review_id=row.review_id,
            child_ref=placement.child_ref,
            provider_id=placement.provider_id,
            due_on=row.due_on,
            days_overdue=max(1, (request.today - row.due_on).days),
        )
        uow.emit_raw(TOPIC, "placement.review.overdue", pid, payload)
    uow.session.add(row)


async def _renewal_step(uow: UnitOfWork, placement: domain.Placement) -> None:
    row = await uow.session.get(PlacementRow, placement.placement_id)
    if row is None or row.renewal_requested_for == placement.term_end:
        return
    row.renewal_requested_for = placement.term_end
    uow.session.add(row)
    if placement.status != PlacementStatus.ACTIVE:
        return
    payload = placements_v1.PlacementRenewalDecisionRequested(
        placement_id=placement.placement_id,
        child_ref=placement.child_ref,
        provider_id=placement.provider_id,
        term_end=placement.term_end,
        notice_period_weeks=placement.notice_period_weeks,
        decision_by=domain.add_weeks(placement.term_end, -placement.notice_period_weeks),
    )
    uow.emit_raw(TOPIC, "placement.renewal.decision_requested", placement.placement_id, payload)


async def _renewal_overdue_step(uow: UnitOfWork, placement: domain.Placement, today: date) -> None:
    row = await uow.session.get(PlacementRow, placement.placement_id)
    if (
        row is None
        or placement.status != PlacementStatus.ACTIVE
        or row.renewal_requested_for != placement.term_end
        or row.renewal_overdue_sent_for == placement.term_end
    ):
        return  # decided meanwhile, or already escalated
    row.renewal_overdue_sent_for = placement.term_end
    uow.session.add(row)
    deadline = domain.renewal_notice_deadline(placement.term_end, placement.notice_period_weeks)
    payload = placements_v1.PlacementRenewalDecisionOverdue(
        placement_id=placement.placement_id,
        child_ref=placement.child_ref,
        provider_id=placement.provider_id,
        term_end=placement.term_end,
        notice_deadline=deadline,
        days_overdue=max(1, (today - deadline).days),
    )
    uow.emit_raw(TOPIC, "placement.renewal.decision_overdue", placement.placement_id, payload)


class BlockActivities:
    """Activities of the block contract renewal workflow."""

    def __init__(self, db: Database, source: str) -> None:
        self.db = db
        self.source = source

    @activity.defn(name="placements.block_snapshot")
    async def block_snapshot(self, block_contract_id: str) -> BlockSnapshot | None:
        async with self.db.session() as session:
            block = await load_block(session, block_contract_id)
            row = await session.get(BlockContractRow, block_contract_id)
        if block is None or row is None:
            return None
        return BlockSnapshot(
            block_contract_id=block_contract_id,
            term_end=block.term_end,
            decision_by=domain.block_renewal_decision_date(block),
            renewal_requested_for=row.renewal_requested_for,
            renewal_decided_for=row.renewal_decided_for,
        )

    @activity.defn(name="placements.request_block_renewal")
    async def request_block_renewal(self, block_contract_id: str) -> None:
        async with unit_of_work(self.db, self.source) as uow:
            block = await load_block(uow.session, block_contract_id)
            row = await uow.session.get(BlockContractRow, block_contract_id)
            if block is None or row is None or row.renewal_requested_for == block.term_end:
                return
            row.renewal_requested_for = block.term_end
            uow.session.add(row)
            payload = placements_v1.BlockContractRenewalRequested(
                block_contract_id=block_contract_id,
                provider_id=block.provider_id,
                term_end=block.term_end,
                decision_by=domain.add_weeks(block.term_end, -block.notice_period_weeks),
                utilisation_percent=domain.utilisation_percent(block),
            )
            uow.emit_raw(TOPIC, "block_contract.renewal_requested", block_contract_id, payload)


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


# ==========================================================================================
# Starting and poking lifecycle workflows
# ==========================================================================================


def workflow_id(placement_id: str) -> str:
    return f"placement-{placement_id}"


async def start_lifecycle(client: Client, task_queue: str, placement_id: str) -> None:
    """Start the placement's workflow; one already running (or done) is fine."""
    try:
        await client.start_workflow(
            PlacementLifecycleWorkflow.run,
            LifecycleInput(placement_id=placement_id),
            id=workflow_id(placement_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass


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
        async with runtime.db.transaction() as session:
            row = await session.get(PlacementRow, placement_id)
            if row is not None:
                row.workflow_started = True
                session.add(row)


def block_workflow_id(block_contract_id: str) -> str:
    return f"block-contract-{block_contract_id}"


async def start_block_renewals(runtime: ServiceRuntime, block_ids: Iterable[str]) -> None:
    """Start block renewal workflows and mark them started (idempotent, like placements)."""
    if runtime.temporal is None:
        return
    for block_id in block_ids:
        try:
            await runtime.temporal.start_workflow(
                BlockContractRenewalWorkflow.run,
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
        async with runtime.db.transaction() as session:
            row = await session.get(BlockContractRow, block_id)
            if row is not None:
                row.workflow_started = True
                session.add(row)


async def poke_blocks(runtime: ServiceRuntime, block_ids: Iterable[str]) -> None:
    """Tell running block renewal workflows their block changed, then (re)start any that
    finished (a renewed block asks again before its new term end)."""
    if runtime.temporal is None:
        return
    ids = list(block_ids)
    for block_id in ids:
        try:
            handle = runtime.temporal.get_workflow_handle(block_workflow_id(block_id))
            await handle.signal(BlockContractRenewalWorkflow.refresh)
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
            await handle.signal(PlacementLifecycleWorkflow.refresh)
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

    runtime.spawn(loop(), "placement-lifecycle-sweep")
