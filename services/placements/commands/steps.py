"""Use cases of the lifecycle and block renewal workflows' dated steps."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.placements import domain, events
from services.placements.commands._core import (
    SERVICE_ACTOR,
    record_placement,
)
from services.placements.models import (
    BlockContractRow,
    PlacementRow,
    ReviewRow,
    load_block,
    load_placement,
)
from services.placements.workflow_types import StepRequest
from shared.contracts.placements_v1 import PlacementStatus
from shared.unit_of_work import UnitOfWork

# ==========================================================================================
# Workflow steps (activities)
# ==========================================================================================


async def take_lifecycle_step(uow: UnitOfWork, request: StepRequest) -> None:
    """Take a dated step of a placement's lifecycle; each is idempotent in the database
    (a sent reminder is recorded with it), so a retried step emits nothing twice."""
    placement = await load_placement(uow.session, request.placement_id)
    if placement is None:
        return
    step = request.step
    if step.kind in ("reminder", "overdue"):
        await _review_step(uow, placement, request)
    elif step.kind == "start" and placement.status == PlacementStatus.PENDING:
        at = datetime.now(UTC)
        started = domain.start_placement(placement, placement.start_date, SERVICE_ACTOR.id, at)
        await record_placement(uow, placement, started)
    elif step.kind == "renewal":
        await _renewal_step(uow, placement)
    elif step.kind == "renewal_overdue":
        await _renewal_overdue_step(uow, placement, request.today)
    elif step.kind == "end" and placement.status in (
        PlacementStatus.ACTIVE,
        PlacementStatus.ENDING,
    ):
        at = datetime.now(UTC)
        ended = domain.complete_end(placement, request.today, SERVICE_ACTOR.id, at)
        await record_placement(uow, placement, ended)


async def _review_step(uow: UnitOfWork, placement: domain.Placement, request: StepRequest) -> None:
    row = await uow.session.get(ReviewRow, request.step.review_id)
    if row is None or row.outcome is not None:
        return
    if request.step.kind == "reminder" and request.step.weeks_before is not None:
        weeks = request.step.weeks_before
        if weeks in row.reminders_sent:
            return
        row.reminders_sent = [*row.reminders_sent, weeks]
        uow.emit(events.review_due_event(placement, row.review_id, row.due_on, weeks))
    elif request.step.kind == "overdue" and not row.overdue_sent:
        row.overdue_sent = True
        uow.emit(events.review_overdue_event(placement, row.review_id, row.due_on, request.today))
    uow.session.add(row)


async def _renewal_step(uow: UnitOfWork, placement: domain.Placement) -> None:
    row = await uow.session.get(PlacementRow, placement.placement_id)
    if row is None or row.renewal_requested_for == placement.term_end:
        return
    row.renewal_requested_for = placement.term_end
    uow.session.add(row)
    if placement.status != PlacementStatus.ACTIVE:
        return
    uow.emit(events.renewal_requested_event(placement))


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
    uow.emit(events.renewal_overdue_event(placement, today))


async def request_block_renewal(uow: UnitOfWork, block_contract_id: str) -> None:
    """Ask for a renewal decision on a block contract, once per term end."""
    block = await load_block(uow.session, block_contract_id)
    row = await uow.session.get(BlockContractRow, block_contract_id)
    if block is None or row is None or row.renewal_requested_for == block.term_end:
        return
    row.renewal_requested_for = block.term_end
    uow.session.add(row)
    uow.emit(events.block_renewal_requested_event(block))
