"""Names, ids, inputs and outputs of the placements workflows and activities, in one place.

``clocks`` starts and signals workflows by these type names (it must not import
``workflows``); ``workflows`` and ``activities`` exchange these models. Every name and id
format here is recorded in running workflows and their histories: never change one.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

# Workflow type names (the classes' names, as registered with Temporal) and their signal.
LIFECYCLE_WORKFLOW = "PlacementLifecycleWorkflow"
BLOCK_RENEWAL_WORKFLOW = "BlockContractRenewalWorkflow"
REFRESH_SIGNAL = "refresh"

# Activity names.
SNAPSHOT_ACTIVITY = "placements.snapshot"
ADVANCE_ACTIVITY = "placements.advance"
TAKE_STEP_ACTIVITY = "placements.take_step"
BLOCK_SNAPSHOT_ACTIVITY = "placements.block_snapshot"
REQUEST_BLOCK_RENEWAL_ACTIVITY = "placements.request_block_renewal"

StepKind = Literal["start", "reminder", "overdue", "renewal", "renewal_overdue", "end"]


def workflow_id(placement_id: str) -> str:
    """Id of a placement's lifecycle workflow."""
    return f"placement-{placement_id}"


def block_workflow_id(block_contract_id: str) -> str:
    """Id of a block contract's renewal workflow."""
    return f"block-contract-{block_contract_id}"


class ReviewInfo(BaseModel):
    review_id: str
    due_on: date
    reminders_sent: list[int] = []
    overdue_sent: bool = False


class Snapshot(BaseModel):
    """What the workflow needs to know about a placement, read by an activity."""

    placement_id: str
    status: str
    start_date: date
    term_end: date
    end_date: date | None = None
    notice_period_weeks: int
    renewal_requested_for: date | None = None
    renewal_overdue_sent_for: date | None = None
    review: ReviewInfo | None = None  # earliest open review

    @property
    def awaiting_renewal_decision(self) -> bool:
        """A renewal decision was asked for this term and none is recorded yet."""
        return self.status == "active" and self.renewal_requested_for == self.term_end


class Step(BaseModel):
    kind: StepKind
    on: date
    review_id: str | None = None
    weeks_before: int | None = None


class StepRequest(BaseModel):
    placement_id: str
    step: Step
    today: date


class LifecycleInput(BaseModel):
    placement_id: str
    cycle: int = 1
    review_id: str | None = None  # the review this run waits on


class BlockSnapshot(BaseModel):
    block_contract_id: str
    term_end: date
    decision_by: date
    renewal_requested_for: date | None = None
    renewal_decided_for: date | None = None


class BlockRenewalInput(BaseModel):
    block_contract_id: str
