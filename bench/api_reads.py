"""Latency and throughput of the council's commonest reads over real HTTP at a fixed
concurrency, each next to /healthz of the same server measured just before it.

Seeds the SQLite databases of three services through their own code, then serves each
service's FastAPI app under uvicorn in a child process (API role only: no broker, relay
or Temporal) and drives it from this process with one httpx.AsyncClient that keeps
`--concurrency` requests in flight until `--requests` have been answered (or
`--seconds` have passed, so one slow read cannot make the run endless):

1. provider search by need and distance over 5,000 providers (provider_registry
   GET /providers, the query of bench.provider_search);
2. the officers' inbox of open alerts (monitoring GET /alerts?status=open);
3. a placement with its fee, status, review and uplift history and its events
   (placements GET /placements/{id}, a random one of all seeded each time);
4. the commissioning dashboard (monitoring GET /dashboard).

Seeded: 5,000 GIAS-generated providers through the register's import; 2,000 placements
with 300 of them, each lived through the placements domain (award, start, annual
reviews, variations, April uplifts, some ended, about one review in seven left overdue)
and written with the service's own `record_placement` (one call per placement with its
whole history: the same rows and events as one call per change but for intermediate
spend snapshots) plus the events and rows its routes add; placements learns provider
names, and monitoring every provider and then every placement event, by applying the
other services' outbox events through their own consumers; monitoring also gets Ofsted
inspections, expired insurance and overdue reviews that raise alerts, 60% of which
officers then acknowledge or resolve, and a budget for each of three years.

    python -m bench.api_reads [--concurrency 8] [--requests 400] [--seconds 10]
                              [--placements 2000] [--only search,alerts,placement,dashboard]

`--only` measures some of the four reads (the seed is the same whatever is chosen).
Beside the latencies, each row gives the server process's CPU per request (Linux /proc,
its threads' included): on a shared machine it moves far less than latency does.
Under `python -m bench` each read's p50 is recorded (bench.report) beside its /healthz
p50 with the issue's target.

Logging is at WARNING, as in the other benchmarks, so no request pays for a log line.
A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench import report
from bench.api_reads_seed import SECRET, Seeded, runtime_for, seed
from bench.serving import Server, ready, served, serving
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.logging import configure_logging

# The query of bench.provider_search: ASD places within 40 km of Maidstone, first 50.
SEARCH: dict[str, str | int] = {"need": "ASD", "near": "ME14 1XX", "within_km": 40, "limit": 50}


# ------------------------------------------------------------------------------ serving


def _serve(service: str, data_dir: Path, fd: int) -> None:
    """Child process: serve one service's API on the listening socket `fd`."""
    configure_logging(service, "WARNING", as_json=False)
    runtime = runtime_for(service, data_dir)
    config = uvicorn.Config(runtime.build_app(), log_config=None, access_log=False, lifespan="off")
    sock = socket.socket(fileno=fd)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def _server(service: str, data_dir: Path) -> AbstractContextManager[str]:
    """A uvicorn child process serving `service`; yields its base URL."""
    return served(*_serve_args(service, data_dir))


def _serving(service: str, data_dir: Path) -> AbstractContextManager[Server]:
    """As `_server`, yielding its URL and process (to read its CPU)."""
    return serving(*_serve_args(service, data_dir))


def _serve_args(service: str, data_dir: Path) -> tuple[str, ...]:
    return ("bench.api_reads", "--serve", service, "--data-dir", str(data_dir))


# ------------------------------------------------------------------------ measuring

Params = dict[str, str | int]
Request = Callable[[], tuple[str, Params]]


@dataclass(frozen=True)
class Limits:
    requests: int  # per row
    concurrency: int  # in flight at any time
    seconds: float  # a row stops starting requests after this long


@dataclass(frozen=True)
class Run:
    label: str
    samples: list[float]
    seconds: float
    server_cpu_s: float = float("nan")  # the server's CPU over the run (unlike latency,
    # hardly moved by other processes on the machine)

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.samples, n=100, method="inclusive")[q - 1]

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds

    @property
    def cpu_ms(self) -> float:
        """Server CPU per request."""
        return self.server_cpu_s * 1000 / len(self.samples)


async def _drive(
    client: httpx.AsyncClient,
    base: str,
    request: Request,
    count: int,
    concurrency: int,
    seconds: float,
) -> tuple[list[float], float]:
    """Up to `count` requests, `concurrency` in flight, none started after `seconds`;
    their latencies (ms) and the wall time they took."""
    tickets = iter(range(count))  # shared: each worker takes the next request
    samples: list[float] = []
    failures: dict[int, int] = {}
    began = time.perf_counter()
    deadline = began + seconds

    async def worker() -> None:
        for _ in tickets:
            path, params = request()
            started = time.perf_counter()
            if started > deadline:
                return
            response = await client.get(f"{base}{path}", params=params)
            samples.append((time.perf_counter() - started) * 1000)
            if response.is_error:  # e.g. 503 when a read's audit row cannot be written
                failures[response.status_code] = failures.get(response.status_code, 0) + 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failures:
        print(f"  {sum(failures.values())} of {len(samples)} answers failed: {failures}")
    return samples, time.perf_counter() - began


async def _measure(
    client: httpx.AsyncClient, server: Server, label: str, request: Request, limits: Limits
) -> Run:
    warm = min(limits.requests, 4 * limits.concurrency)
    await _drive(client, server.url, request, warm, limits.concurrency, limits.seconds / 5)
    cpu_before = server.cpu_s()
    samples, seconds = await _drive(
        client, server.url, request, limits.requests, limits.concurrency, limits.seconds
    )
    return Run(label, samples, seconds, server.cpu_s() - cpu_before)


def _healthz() -> tuple[str, Params]:
    return "/healthz", {}


# Short names for --only, the label of each read, and the issue's table row it is.
CHOICES = {
    "search": "provider search",
    "alerts": "open alerts",
    "placement": "placement + history",
    "dashboard": "dashboard",
}
FIGURES = {
    "provider search": (
        "provider search (5,000 providers, need + 40 km), p50 at 8 in flight",
        "≤ 3\u00d7",
    ),
    "open alerts": ("open alerts (200 of them), p50 at 8 in flight", "≤ 3\u00d7"),
    "placement + history": ("placement with its history, p50 at 8 in flight", "≤ 3\u00d7"),
    "dashboard": (
        "dashboard (2,000 placements, 7 years of spend), p50 at 8 in flight",
        "≤ 5\u00d7",
    ),
}


def _reads(seeded: Seeded, only: frozenset[str]) -> dict[str, list[tuple[str, Request]]]:
    """Per service, the reads to measure (each after a /healthz run on the same server)."""
    rng = random.Random(3)
    every: dict[str, list[tuple[str, Request]]] = {
        "provider_registry": [("provider search", lambda: ("/providers", SEARCH))],
        "monitoring": [
            ("open alerts", lambda: ("/alerts", {"status": "open"})),
            ("dashboard", lambda: ("/dashboard", {})),
        ],
        "placements": [
            ("placement + history", lambda: (f"/placements/{rng.choice(seeded.placement_ids)}", {}))
        ],
    }
    chosen = {
        service: [(label, request) for label, request in reads if label in only]
        for service, reads in every.items()
    }
    return {service: reads for service, reads in chosen.items() if reads}


def _describe(label: str, body: Any) -> str:
    """What one answer of a read held, to show the work behind its figures."""
    if label == "provider search":
        return f"{label}: {SEARCH} matches {body['total']} (page of {len(body['items'])})"
    if label == "open alerts":
        return f"{label}: {len(body)} alerts returned (route default limit 200)"
    if label == "dashboard":
        severities = body["open_alerts_by_severity"]
        return (
            f"{label}: FY {body['financial_year']}, {len(body['spend_by_year'])} years of spend, "
            f"{body['reviews_overdue']} reviews overdue, open alerts {severities}"
        )
    histories = ("fee_history", "status_history", "reviews", "uplifts", "events")
    return f"{label} (one of them): " + ", ".join(f"{len(body[h])} {h}" for h in histories)


async def _run_all(
    data_dir: Path, seeded: Seeded, limits: Limits, only: frozenset[str]
) -> tuple[list[tuple[str, Run, Run]], list[str]]:
    token = issue_token(SECRET, Role.COMMISSIONER)
    pool = httpx.Limits(
        max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency
    )
    results: list[tuple[str, Run, Run]] = []
    notes: list[str] = []
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, limits=pool, timeout=120
    ) as client:
        for service, reads in _reads(seeded, only).items():
            with _serving(service, data_dir) as server:
                await ready(client, server.url, seconds=30, poll=0.05)
                for label, request in reads:
                    path, params = request()
                    body = (await client.get(f"{server.url}{path}", params=params)).json()
                    notes.append(_describe(label, body))
                    health = await _measure(client, server, "/healthz", _healthz, limits)
                    read = await _measure(client, server, label, request, limits)
                    results.append((service, health, read))
                    print(f"  measured {service}: {label}", flush=True)
    return results, notes


def _row(service: str, run: Run, limits: Limits, health: Run) -> str:
    p50, p95, p99 = (run.percentile(q) for q in (50, 95, 99))
    ratio50 = p50 / health.percentile(50)
    ratio99 = p99 / health.percentile(99)
    cut = "*" if len(run.samples) < limits.requests else " "
    return (
        f"{service:<18}{run.label:<22}{len(run.samples):>8}{cut}{limits.concurrency:>5}"
        f"{p50:>9.2f}{p95:>9.2f}{p99:>9.2f}{run.rate:>9.1f}{ratio50:>9.1f}{ratio99:>9.1f}"
        f"{run.cpu_ms:>9.2f}{run.cpu_ms / health.cpu_ms:>7.1f}"
    )


def _print_table(results: Sequence[tuple[str, Run, Run]], limits: Limits) -> None:
    header = (
        f"{'service':<18}{'endpoint':<22}{'requests':>9}{'conc':>5}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'req/s':>9}{'p50 x':>9}{'p99 x':>9}{'cpu ms':>9}{'cpu x':>7}"
    )
    print(header)
    print("-" * len(header))
    for service, health, read in results:
        print(_row(service, health, limits, health))
        print(_row(service, read, limits, health))
    print(
        "p50 x / p99 x: the endpoint's percentile over that of the /healthz row above it "
        "(same server, measured just before it); cpu ms: the server process's CPU per "
        "request (its threads' included), cpu x: that over /healthz's"
    )
    if any(len(r.samples) < limits.requests for _, _, r in results):
        print(f"* stopped starting requests after {limits.seconds:g}s (--seconds)")


def _record(results: Sequence[tuple[str, Run, Run]]) -> None:
    """Each read's p50 beside its server's /healthz p50, for `python -m bench`'s table."""
    for _service, health, read in results:
        figure, target = FIGURES[read.label]
        p50, baseline = read.percentile(50), health.percentile(50)
        report.record(
            figure,
            f"{p50:.1f} ms",
            f"/healthz p50 {baseline:.2f} ms",
            p50 / baseline,
            target,
        )


async def main(limits: Limits, placement_count: int, only: frozenset[str]) -> None:
    configure_logging("bench", "WARNING", as_json=False)
    today = datetime.now(UTC).date()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        started = time.perf_counter()
        print("seeding...", flush=True)
        seeded = await seed(data_dir, placement_count, today)
        print(f"seeded in {time.perf_counter() - started:.0f}s")
        for note in seeded.notes:
            print(f"  {note}")
        results, notes = await _run_all(data_dir, seeded, limits, only)
    for note in notes:
        print(note)
    print(
        f"\nup to {limits.requests} requests per row, {limits.concurrency} in flight, "
        "one uvicorn process per service, client in this process"
    )
    _print_table(results, limits)
    _record(results)


def _only(text: str) -> frozenset[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in CHOICES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown read(s) {unknown}; choose from {list(CHOICES)}")
    return frozenset(CHOICES[name] for name in names)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="per row")
    parser.add_argument("--seconds", type=float, default=10, help="cap on each row's time")
    parser.add_argument("--placements", type=int, default=2000)
    parser.add_argument(
        "--only",
        type=_only,
        default=frozenset(CHOICES.values()),
        help=f"comma-separated reads to measure, of {', '.join(CHOICES)} (default: all)",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    args = _arguments()
    if args.serve:
        _serve(args.serve, args.data_dir, args.fd)
    else:
        limits = Limits(args.requests, args.concurrency, args.seconds)
        asyncio.run(main(limits, args.placements, args.only))
