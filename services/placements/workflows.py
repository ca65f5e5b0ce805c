"""Temporal workflows of placements.

``PlacementLifecycleWorkflow`` (id ``placement-{placement_id}``) drives one IPA: it reads
a snapshot of the placement (activity), works out the next dated step (pure, below),
sleeps until then or until a signal says the placement changed, and asks an activity to
take the step. Steps are idempotent in the database, so a retried activity or a replayed
workflow never emits twice. It continues as new at the end of each review cycle.

No I/O and no clock here: time is ``workflow.now()``.

Versioning: changes that alter the commands a running workflow issues are guarded with
``workflow.patched(<id>)`` so histories recorded by older code still replay (see
``tests/integration/placements/histories``). Patches in force:

- ``renewal-decision-overdue``: once a renewal decision was asked for, the workflow no
  longer only sleeps to the term end: when no decision is recorded by the notice deadline
  it raises ``placement.renewal.decision_overdue`` (step ``renewal_overdue``).
- ``block-renewal-decided-early``: a block contract whose renewal was already decided for
  its term end (``POST /block-contracts/{id}/renewal``) is not asked about again.
- ``local-steps``: the snapshot and the step are local activities, and a step returns the
  placement as it then is (``placements.advance``) instead of a second snapshot: a third
  of the history and of the server round trips per wake-up (bench/workflows.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from services.placements import domain
    from services.placements.workflow_types import (
        ADVANCE_ACTIVITY,
        BLOCK_RENEWAL_WORKFLOW,
        BLOCK_SNAPSHOT_ACTIVITY,
        LIFECYCLE_WORKFLOW,
        REQUEST_BLOCK_RENEWAL_ACTIVITY,
        SNAPSHOT_ACTIVITY,
        TAKE_STEP_ACTIVITY,
        BlockRenewalInput,
        BlockSnapshot,
        LifecycleInput,
        ReviewInfo,
        Snapshot,
        Step,
        StepKind,
        StepRequest,
    )

__all__ = [
    "WORKFLOWS",
    "BlockContractRenewalWorkflow",
    "BlockRenewalInput",
    "BlockSnapshot",
    "LifecycleInput",
    "PlacementLifecycleWorkflow",
    "ReviewInfo",
    "Snapshot",
    "Step",
    "StepKind",
    "StepRequest",
    "next_step",
]

RENEWAL_OVERDUE_PATCH = "renewal-decision-overdue"
BLOCK_DECIDED_PATCH = "block-renewal-decided-early"
LOCAL_STEPS_PATCH = "local-steps"
CLOSED = ("ended", "terminated")
ACTIVITY_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
MAX_STEPS_PER_RUN = 40  # bounds history even if a cycle never completes


def _review_steps(review: ReviewInfo) -> list[Step]:
    steps = [
        Step(
            kind="reminder",
            on=domain.add_weeks(review.due_on, -w),
            review_id=review.review_id,
            weeks_before=w,
        )
        for w in domain.REVIEW_REMINDER_WEEKS
        if w not in review.reminders_sent
    ]
    if not review.overdue_sent:
        steps.append(
            Step(kind="overdue", on=review.due_on + timedelta(days=1), review_id=review.review_id)
        )
    return steps


def next_step(snap: Snapshot, renewal_overdue: bool = False) -> Step | None:
    """The earliest dated thing to do for this placement (None: wait for a change).

    ``renewal_overdue``: escalate a renewal decision still missing at the notice deadline
    (patch ``renewal-decision-overdue``; older runs only waited for the term end).
    """
    if snap.status in CLOSED:
        return None
    if snap.status == "pending":
        return Step(kind="start", on=snap.start_date)
    steps = _review_steps(snap.review) if snap.review else []
    last_day = snap.end_date or snap.term_end
    steps.append(Step(kind="end", on=last_day + timedelta(days=1)))
    if snap.status == "active" and snap.renewal_requested_for != snap.term_end:
        decide_by = domain.renewal_decision_date(snap.term_end, snap.notice_period_weeks)
        steps.append(Step(kind="renewal", on=decide_by))
    if (
        renewal_overdue
        and snap.awaiting_renewal_decision
        and snap.renewal_overdue_sent_for != snap.term_end
    ):
        deadline = domain.renewal_notice_deadline(snap.term_end, snap.notice_period_weeks)
        steps.append(Step(kind="renewal_overdue", on=deadline + timedelta(days=1)))
    # Reminders missed (e.g. a late-scheduled review) are not sent after their review is due.
    due = snap.review.due_on if snap.review else None
    steps = [s for s in steps if not (s.kind == "reminder" and due is not None and s.on > due)]
    return min(steps, key=lambda s: (s.on, s.kind)) if steps else None


def _at_midnight(d: date) -> datetime:
    return datetime.combine(d, time(), tzinfo=UTC)


@workflow.defn(name=LIFECYCLE_WORKFLOW)
class PlacementLifecycleWorkflow:
    def __init__(self) -> None:
        self._changed = False

    @workflow.signal
    def refresh(self) -> None:
        """The placement changed (review outcome, moved review date, notice, variation)."""
        self._changed = True

    @workflow.query
    def waiting(self) -> bool:
        return not self._changed

    @workflow.run
    async def run(self, args: LifecycleInput) -> str:
        review_id = args.review_id
        local = workflow.patched(LOCAL_STEPS_PATCH)
        snap: Snapshot | None = None
        fresh = False  # snap came back from the step just taken: no need to read it again
        for _ in range(MAX_STEPS_PER_RUN):
            if not fresh:
                snap = await self._snapshot(args.placement_id, local)
            fresh = False
            if snap is None or snap.status in CLOSED:
                return snap.status if snap else "missing"
            current = snap.review.review_id if snap.review else None
            if review_id is not None and current != review_id:
                # The awaited review has an outcome: a new cycle starts afresh.
                workflow.continue_as_new(
                    LifecycleInput(
                        placement_id=args.placement_id, cycle=args.cycle + 1, review_id=current
                    )
                )
            review_id = current
            step = next_step(snap, renewal_overdue=self._escalates_renewal(snap))
            today = workflow.now().date()
            if step is not None and step.on <= today:
                request = StepRequest(placement_id=args.placement_id, step=step, today=today)
                if local:
                    snap, fresh = await self._advance(request), True
                else:
                    await workflow.execute_activity(
                        TAKE_STEP_ACTIVITY,
                        request,
                        start_to_close_timeout=ACTIVITY_TIMEOUT,
                        retry_policy=RETRY,
                    )
                continue
            await self._sleep_until(step.on if step else None)
        workflow.continue_as_new(
            LifecycleInput(placement_id=args.placement_id, cycle=args.cycle, review_id=review_id)
        )

    @staticmethod
    def _escalates_renewal(snap: Snapshot) -> bool:
        # Asked only once a renewal decision is awaited: runs recorded before the patch
        # replay down the old path (sleep to term end), new runs take the new one.
        return snap.awaiting_renewal_decision and workflow.patched(RENEWAL_OVERDUE_PATCH)

    async def _snapshot(self, placement_id: str, local: bool) -> Snapshot | None:
        # Local activities (patch local-steps) run in the worker without a server round
        # trip each; a snapshot is a quick read, well inside a workflow task.
        run = workflow.execute_local_activity if local else workflow.execute_activity
        result: Snapshot | None = await run(
            SNAPSHOT_ACTIVITY,
            placement_id,
            result_type=Snapshot | None,  # type: ignore[arg-type]
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        return result

    async def _advance(self, request: StepRequest) -> Snapshot | None:
        result: Snapshot | None = await workflow.execute_local_activity(
            ADVANCE_ACTIVITY,
            request,
            result_type=Snapshot | None,  # type: ignore[arg-type]
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        return result

    async def _sleep_until(self, on: date | None) -> None:
        self._changed = False
        timeout = None if on is None else _at_midnight(on) - workflow.now()
        try:
            await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        except TimeoutError:
            pass  # the dated step has come


@workflow.defn(name=BLOCK_RENEWAL_WORKFLOW)
class BlockContractRenewalWorkflow:
    """Asks for a renewal or re-procurement decision before a block contract's term ends
    (id ``block-contract-{id}``); done once the request is made."""

    def __init__(self) -> None:
        self._changed = False

    @workflow.signal
    def refresh(self) -> None:
        self._changed = True

    @workflow.run
    async def run(self, args: BlockRenewalInput) -> str:
        for _ in range(MAX_STEPS_PER_RUN):
            snap: BlockSnapshot | None = await workflow.execute_activity(
                BLOCK_SNAPSHOT_ACTIVITY,
                args.block_contract_id,
                result_type=BlockSnapshot | None,  # type: ignore[arg-type]
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            if snap is None:
                return "missing"
            if snap.renewal_requested_for == snap.term_end:
                return "requested"
            if snap.renewal_decided_for == snap.term_end and workflow.patched(BLOCK_DECIDED_PATCH):
                return "decided"
            if workflow.now().date() >= snap.decision_by:
                await workflow.execute_activity(
                    REQUEST_BLOCK_RENEWAL_ACTIVITY,
                    args.block_contract_id,
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=RETRY,
                )
                continue
            self._changed = False
            try:
                await workflow.wait_condition(
                    lambda: self._changed, timeout=_at_midnight(snap.decision_by) - workflow.now()
                )
            except TimeoutError:
                pass  # the decision date has come
        workflow.continue_as_new(args)


WORKFLOWS: list[type] = [PlacementLifecycleWorkflow, BlockContractRenewalWorkflow]
