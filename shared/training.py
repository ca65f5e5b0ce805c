"""Moving the training clock: the services' offset (shared.clock) and the running
workflows' timers (Temporal's per-workflow time skipping), together.

Used by `dps clock advance` and the console's /training page. Temporal's dev server must
run with ``frontend.WorkflowTimeSkippingEnabled=true`` (`dps up --training` starts it so);
a workflow started after an advance is started already that far ahead, so its timers
agree with the services' now (TrainingStartInterceptor).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)
from temporalio.testing import TimeSkipper
from temporalio.testing._timeskipping import FastForwardConfig, TimeSkippingConfig

from shared import clock
from shared.clock import TrainingRefused
from shared.files import private_dir

CONCURRENCY = 8  # fast-forwards at once: each runs the workflow's activities on the way
WORKFLOW_TIMEOUT_S = 120.0


@dataclass
class Advanced:
    step: timedelta
    offset: timedelta  # the services' offset after the advance (unchanged for one workflow)
    moved: list[str] = field(default_factory=list)  # workflow ids whose time moved
    failed: dict[str, str] = field(default_factory=dict)  # workflow id -> why


def require_training(data_dir: Path, *, production: bool) -> None:
    """Refuse unless this data folder's stack was started with `dps up --training`."""
    if production:
        raise TrainingRefused(clock.training_refused_in_production())
    if not (data_dir / clock.TRAINING_FILE).exists():
        raise TrainingRefused(
            f"the stack in {data_dir} was not started for training: stop it and start it "
            "with `dps up --training` (the real calendar is never moved)"
        )


def start_training(data_dir: Path) -> None:
    """`dps up --training`: a new rehearsal starts on today's date; a restarted one keeps
    its offset (its workflows are already that far ahead)."""
    private_dir(data_dir)
    if not (data_dir / clock.TRAINING_FILE).exists():
        clock.write_offset(data_dir, timedelta(0))


async def advance(
    client: Client, data_dir: Path, step: timedelta, *, workflow_id: str | None = None
) -> Advanced:
    """Move one workflow's time by ``step``, or (no id) the services' clock and every
    running workflow's time by ``step``, so the whole rehearsal moves together."""
    if workflow_id is not None:
        result = Advanced(step, clock.read_offset(data_dir))
        await _fast_forward(client, workflow_id, step, result)
        return result
    new_offset = clock.read_offset(data_dir) + step
    clock.write_offset(data_dir, new_offset)  # first: workflows started meanwhile agree
    result = Advanced(step, new_offset)
    ids = [wf.id async for wf in client.list_workflows('ExecutionStatus="Running"', page_size=500)]
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(wf_id: str) -> None:
        async with limit:
            await _fast_forward(client, wf_id, step, result)

    await asyncio.gather(*(one(wf_id) for wf_id in ids))
    result.moved.sort()
    return result


async def _fast_forward(client: Client, wf_id: str, step: timedelta, result: Advanced) -> None:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(wf_id)
    try:
        await asyncio.wait_for(
            TimeSkipper(client).fast_forward(handle, step), timeout=WORKFLOW_TIMEOUT_S
        )
    except TimeoutError:
        result.failed[wf_id] = f"did not reach the new time within {WORKFLOW_TIMEOUT_S:.0f}s"
    except Exception as exc:  # a workflow that ended meanwhile, or skipping not enabled
        result.failed[wf_id] = str(exc) or type(exc).__name__
    else:
        result.moved.append(wf_id)


class TrainingStartInterceptor(Interceptor):
    """Starts every workflow already as far ahead as the training clock, so a call-off
    opened after an advance closes when the services' clock says its deadline passed."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _StartAhead(next)


class _StartAhead(OutboundInterceptor):
    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        ahead = clock.offset()
        if ahead > timedelta(0):
            config = TimeSkippingConfig(
                enabled=True,
                fast_forward_config=FastForwardConfig(id=str(uuid.uuid4()), duration=ahead),
            )
            input.time_skipping_config = config._to_proto()
        return await super().start_workflow(input)
