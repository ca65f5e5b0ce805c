"""The whole stack as `dps up` runs it: Tansu, the Temporal dev server and the four
services, each its own process, on free ports; tests drive it only through HTTP and Kafka."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
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


BROKER = "kafka (tansu)"
TEMPORAL = "temporal"


class SupervisedStack:
    """`dps up` exactly as `make up` runs it, in its own process with its own supervisor;
    tests only kill what it started (by the pids it records) and watch it cope."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.plan = StackPlan(
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
            console_port=processes.free_port(),
        )
        self.stack = Stack(self.plan)  # never started here: for start_replica only
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "dps-up.log"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **self.plan.extra_env, "DPS_DATA_DIR": str(self.data_dir)}

    def up(self, timeout: float = 180) -> None:
        plan = self.plan
        argv = [
            sys.executable,
            *("-m", "dps.cli", "up", "--data-dir", str(self.data_dir)),
            *("--kafka-port", str(plan.kafka_port), "--temporal-port", str(plan.temporal_port)),
            *("--temporal-ui-port", str(plan.temporal_ui_port)),
            *[f"--service-port={n}={p}" for n, p in plan.service_ports.items()],
            *("--console-port", str(plan.console_port)),
            "--headless-temporal",
            "--time-skipping",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        deadline = time.monotonic() + timeout
        while not all(self.ready(name) for name in (*SERVICES, "console")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"`dps up` did not come up:\n{self.log()}")
            time.sleep(0.5)

    def down(self) -> None:
        """`dps down` from another terminal, as a user stops the stack."""
        subprocess.run(
            [sys.executable, "-m", "dps.cli", "down"], env=self.env, check=True, timeout=60
        )
        if self.process is not None:
            self.process.wait(30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pids(self) -> dict[str, int]:
        recorded: dict[str, int] = json.loads((self.data_dir / "stack.json").read_text())[
            "processes"
        ]
        return recorded

    def kill(self, name: str) -> int:
        """SIGKILL one process of the stack; return its pid."""
        pid = self.pids()[name]
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_restarted(self, name: str, old_pid: int, within: float = 120) -> None:
        """The supervisor started `name` again (a new pid) and it serves again."""
        deadline = time.monotonic() + within
        while True:
            try:
                restarted = self.pids().get(name, old_pid) != old_pid and self.serving(name)
            except (OSError, ValueError):  # stack.json being rewritten
                restarted = False
            if restarted:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} was not restarted:\n{self.log()}")
            time.sleep(0.5)

    def serving(self, name: str) -> bool:
        if name == BROKER:
            return processes.port_open("127.0.0.1", self.plan.kafka_port)
        if name == TEMPORAL:
            return processes.port_open("127.0.0.1", self.plan.temporal_port)
        return self.ready(name)

    def ready(self, service: str) -> bool:
        try:
            return httpx.get(f"{self.url(service)}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def url(self, service: str) -> str:
        if service == "console":
            return f"http://127.0.0.1:{self.plan.console_port}"
        return f"http://127.0.0.1:{self.plan.service_ports[service]}"

    def client(self, service: str, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url(service), headers=headers, timeout=15)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="module")
def supervised_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SupervisedStack]:
    """The stack as `make up` runs it: `dps up` and its supervisor, SQLite files."""
    stack = SupervisedStack(tmp_path_factory.mktemp("dps-up"))
    stack.up()
    try:
        yield stack
    finally:
        stack.stop()
