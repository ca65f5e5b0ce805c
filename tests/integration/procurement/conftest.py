"""The real Temporal dev server with per-workflow time skipping (offline), and a
procurement runtime whose worker and workflow starts use it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.harness import time_skipping_server


@pytest.fixture(scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """Workflows started through ``env.client`` do not skip time on their own: each test
    moves a workflow's clock with ``env.fast_forward(handle, duration)``."""
    env = await time_skipping_server(skips_on_its_own=False)
    yield env
    await env.shutdown()
