"""The whole stack as `dps up` runs it: Tansu, the Temporal dev server and the four
services, each its own process, on free ports; tests drive it only through HTTP and Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dps import processes
from dps.stack import Stack, StackPlan
from shared.settings import SERVICES
from tests.conftest import POSTGRES_URL, TEST_SECRET, postgres_database


class RunningStack:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.plan = stack.plan

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.plan.service_ports[service]}"

    def client(self, service: str, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url(service), headers=headers, timeout=15)

    def kill(self, service: str) -> None:
        self.stack.services[service].kill()

    def restart(self, service: str) -> None:
        self.stack.start_service(service)
        self.stack.wait_ready(service)


def start_stack(data_dir: Path, database_urls: dict[str, str]) -> Stack:
    plan = StackPlan(
        data_dir=data_dir,
        kafka_port=processes.free_port(),
        temporal_port=processes.free_port(),
        temporal_ui_port=processes.free_port(),
        service_ports={name: processes.free_port() for name in SERVICES},
        headless_temporal=True,
        time_skipping=True,
        extra_env={
            "DPS_JWT_SECRET": TEST_SECRET,
            "DPS_CONSUMER_SESSION_TIMEOUT_MS": "2000",
            "DPS_BROKER_WATCH_INTERVAL_S": "1",
        },
        database_urls=database_urls,
    )
    stack = Stack(plan)
    try:
        stack.start()
    except Exception:
        stack.stop()
        raise
    return stack


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Every service on its own SQLite file (the embedded default)."""
    stack = start_stack(tmp_path_factory.mktemp("stack"), {})
    try:
        yield RunningStack(stack)
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def postgres_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Every service on its own PostgreSQL database, as in production."""
    if POSTGRES_URL is None:
        pytest.skip("DPS_TEST_POSTGRES_URL is not set: no PostgreSQL server to run on")
    databases = {name: postgres_database() for name in SERVICES}
    urls = {name: next(generator) for name, generator in databases.items()}
    stack = start_stack(tmp_path_factory.mktemp("pg-stack"), urls)
    try:
        yield RunningStack(stack)
    finally:
        stack.stop()
        for generator in databases.values():
            for _ in generator:  # drops the database
                pass
