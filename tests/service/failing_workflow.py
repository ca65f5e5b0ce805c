"""A workflow whose only activity always fails: for the failure-metrics test."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError


@activity.defn
async def always_fails() -> None:
    raise ApplicationError("broken on purpose", non_retryable=True)


@workflow.defn
class FailingWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(
            always_fails,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
