"""Building service runtimes for tests the way `dps service` builds them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
from faststream.kafka import KafkaBroker
from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment

from dps import processes
from dps.services import definition_of
from shared.runtime import ALL_ROLES, ProcessRole, ServiceRuntime
from shared.settings import settings_for
from shared.temporal import pydantic_data_converter
from tests.conftest import TEST_SECRET


def make_runtime(
    service: str,
    database_url: str,
    data_dir: Path,
    *,
    kafka: str = "127.0.0.1:1",
    temporal: str | None = None,
    shared_broker: KafkaBroker | None = None,
    roles: frozenset[ProcessRole] = ALL_ROLES,
    **settings: object,
) -> ServiceRuntime:
    """A runtime on a real broker (kafka=...) or, with shared_broker, an in-memory one."""
    # Tests send many refused tokens from one address (every route with every bad token);
    # tests/service/test_rate_limits.py sets the limits it tests.
    settings.setdefault("rate_limit_auth_failures", "100000/minute")
    service_settings = settings_for(
        service,
        database_url=database_url,
        data_dir=data_dir,
        kafka_bootstrap=kafka,
        temporal_address=temporal or "127.0.0.1:1",
        jwt_secret=TEST_SECRET,
        consumer_session_timeout_ms=2000,
        outbox_poll_interval_s=0.1,
        broker_watch_interval_s=0.5,
        **settings,
    )
    return ServiceRuntime(
        definition_of(service),
        service_settings,
        roles,
        use_temporal=temporal is not None,
        watch_broker=shared_broker is None,
        shared_broker=shared_broker,
    )


def client_for(runtime: ServiceRuntime, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=runtime.build_app())
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = 20.0, interval: float = 0.05
) -> None:
    """Wait until an asynchronous condition holds; fail with the timeout otherwise."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


async def time_skipping_server(*, skips_on_its_own: bool = True) -> WorkflowEnvironment:
    """The Temporal dev server with time skipping, from the project's own binary.
    `skips_on_its_own=False`: a workflow's clock moves only by `env.fast_forward`."""
    return await WorkflowEnvironment.start_time_skipping_v2(
        ts_config=TimeSkippingConfig() if skips_on_its_own else TimeSkippingConfig(enabled=False),
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(processes.temporal_binary()),
        dev_server_extra_args=[
            "--headless",
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
        # 5 s by default: a loaded CI machine took longer (2026-12-06); a budget, not a
        # timed assertion.
        dev_server_startup_timeout=timedelta(seconds=60),
    )
