"""Temporal client and worker helpers: one task queue per service, pydantic payloads."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions


async def connect(address: str, namespace: str = "default") -> Client:
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )


def make_worker(
    client: Client,
    task_queue: str,
    *,
    workflows: Sequence[type],
    activities: Sequence[Callable[..., Any]],
) -> Worker:
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*passed_through(workflows))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=activities,
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
    )


def passed_through(workflows: Sequence[type]) -> list[str]:
    """The project modules a workflow's sandbox takes as they are instead of re-importing.

    The sandbox re-imports each workflow module for every workflow run. Without this,
    `from services.placements import domain` (even inside `imports_passed_through()`)
    re-executes domain.py per run, on the worker's event loop: about 60 ms a workflow,
    measured by bench/workflows.py. Only the workflow modules themselves stay sandboxed;
    the rest is pure code or runs in activities.
    """
    own = {w.__module__ for w in workflows}
    packages = {module.rpartition(".")[0] for module in own}
    siblings = [
        name for name in sys.modules if name.rpartition(".")[0] in packages and name not in own
    ]
    return ["shared", *sorted(siblings)]
