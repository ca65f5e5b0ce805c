"""The real Temporal dev server with per-workflow time skipping (offline), and a
procurement runtime whose worker and workflow starts use it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment

from dps import processes


@pytest.fixture(scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """Workflows started through ``env.client`` do not skip time on their own: each test
    moves a workflow's clock with ``env.fast_forward(handle, duration)``."""
    env = await WorkflowEnvironment.start_time_skipping_v2(
        ts_config=TimeSkippingConfig(enabled=False),
        data_converter=pydantic_data_converter,
        dev_server_existing_path=processes.temporal_binary(),
        dev_server_extra_args=[
            "--headless",
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
    )
    yield env
    await env.shutdown()
