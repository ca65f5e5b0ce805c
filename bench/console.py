"""The officers' console: p50/p99 of its five busiest pages with 8 signed-in sessions at
once, beside the same services' API calls alone, measured in the same run on the same
servers (issue 14's target: the console adds at most 20 ms at p50).

Seeds like bench.api_reads (5,000 providers, 2,000 placements, monitoring's alerts,
scorecards and budgets; procurement migrated but empty), serves each of the four services
and the console under uvicorn in its own child process, and drives them from this process.

Which API calls a page makes is not written down here: each page is first rendered once
by an in-process console whose upstream transports record every call (service, path,
query, start and end). The "API alone" row replays exactly those calls against the same
servers with the same role's token, calls that overlapped in the console overlapping
again (asyncio.gather), the rest one after another, so its latency is the least a page
could take; the console row is the page itself (session cookie, CSRF token, rendering
with GOV.UK Frontend's macros). The difference is what the console adds.

Both rows share the machine's cores with the five servers, so on a busy machine the
difference swells with queueing. A third figure does not: each page rendered one at a
time in this process by a console whose upstream answers are the recorded ones, replayed
from memory (no service, no network), so its time is the console's own work per page:
session, routing, its HTTP client, JSON, rendering.

    python -m bench.console [--sessions 8] [--requests 400] [--seconds 15]
                            [--placements 2000]

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench import api_reads, api_reads_seed
from bench.api_reads import Limits, Run
from bench.api_reads_seed import SECRET
from bench.serving import ready, served
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.logging import configure_logging
from shared.settings import SERVICES

SUBJECT = "demo-commissioner"  # the development sign-in's commissioner
OWN_COST_RENDERS = 50


# ------------------------------------------------------------------------ processes


def _console_settings(data_dir: Path, urls: dict[str, str]) -> Any:
    from services.console.settings import ConsoleSettings

    return ConsoleSettings(
        data_dir=data_dir / "console",
        jwt_secret=SECRET,
        log_json=False,
        log_level="WARNING",
        upstream_timeout_s=60,
        **{f"{name}_url": url for name, url in urls.items()},  # type: ignore[arg-type]
    )


def _serve_console(data_dir: Path, urls: dict[str, str], fd: int) -> None:
    from services.console.app import build_app

    configure_logging("console", "WARNING", as_json=False)
    app = build_app(_console_settings(data_dir, urls))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[socket.socket(fileno=fd)]))


def _console_server(data_dir: Path, urls: dict[str, str]) -> AbstractContextManager[str]:
    args = ["--serve-console", "--data-dir", str(data_dir)]
    return served("bench.console", *args, *(f"--url={name}={url}" for name, url in urls.items()))


# ------------------------------------------------------------ what each page calls


@dataclass(frozen=True)
class Call:
    service: str
    path: str
    query: str
    started: float
    ended: float


class _Recording(httpx.AsyncBaseTransport):
    def __init__(
        self, service: str, calls: list[Call], answers: dict[tuple[str, str], bytes]
    ) -> None:
        self.service, self.calls, self.answers = service, calls, answers
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        url = request.url
        self.calls.append(
            Call(self.service, url.path, url.query.decode(), started, time.perf_counter())
        )
        if request.method == "GET" and response.status_code == 200:
            self.answers[(self.service, str(url.raw_path, "ascii"))] = body
        return response


class _Replay(httpx.AsyncBaseTransport):
    """The recorded answers from memory: the console's own cost, no service behind it."""

    def __init__(self, service: str, answers: dict[tuple[str, str], bytes]) -> None:
        self.service, self.answers = service, answers

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = self.answers[(self.service, str(request.url.raw_path, "ascii"))]
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})


def _waves(calls: Sequence[Call]) -> list[list[Call]]:
    """Calls that overlapped in the console as one wave (gathered), waves in order."""
    waves: list[list[Call]] = []
    for call in sorted(calls, key=lambda c: c.started):
        if waves and call.started < max(c.ended for c in waves[-1]):
            waves[-1].append(call)
        else:
            waves.append([call])
    return waves


async def _sign_in(client: httpx.AsyncClient) -> None:
    page = (await client.get("/sign-in")).text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the sign-in page has no CSRF field"
    answer = await client.post(
        "/sign-in/dev", data={"person": "commissioner", "csrf_token": found.group(1)}
    )
    assert answer.status_code == 303, answer.text


async def _discover(
    data_dir: Path, urls: dict[str, str], pages: Sequence[str]
) -> tuple[dict[str, list[list[Call]]], dict[tuple[str, str], bytes]]:
    from services.console.app import build_app

    calls: list[Call] = []
    answers: dict[tuple[str, str], bytes] = {}
    transports: dict[str, httpx.AsyncBaseTransport] = {
        name: _Recording(name, calls, answers) for name in urls
    }
    app = build_app(_console_settings(data_dir, urls), transports)
    found: dict[str, list[list[Call]]] = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console"
    ) as client:
        await _sign_in(client)
        for path in pages:
            calls.clear()
            answer = await client.get(path)
            answer.raise_for_status()
            found[path] = _waves(calls)
    return found, answers


async def _own_cost(
    data_dir: Path, urls: dict[str, str], pages: Sequence[str], answers: dict[Any, bytes]
) -> dict[str, float]:
    """Median ms per page, one at a time in this process, upstream replayed from memory
    (the sign-in page's register call is recorded too, by _discover's sign-in)."""
    from services.console.app import build_app

    transports: dict[str, httpx.AsyncBaseTransport] = {
        name: _Replay(name, answers) for name in urls
    }
    app = build_app(_console_settings(data_dir, urls), transports)
    found: dict[str, float] = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console"
    ) as client:
        await _sign_in(client)
        for path in pages:
            samples = []
            for _ in range(OWN_COST_RENDERS):
                started = time.perf_counter()
                (await client.get(path)).raise_for_status()
                samples.append((time.perf_counter() - started) * 1000)
            found[path] = statistics.median(samples[OWN_COST_RENDERS // 5 :])  # warm
    return found


# ------------------------------------------------------------------------ measuring


async def _drive(
    workers: Sequence[Callable[[], Awaitable[None]]], count: int, seconds: float
) -> tuple[list[float], float]:
    """`count` requests shared between the workers (one per session), latencies in ms."""
    tickets = iter(range(count))
    samples: list[float] = []
    began = time.perf_counter()
    deadline = began + seconds

    async def loop(work: Callable[[], Awaitable[None]]) -> None:
        for _ in tickets:
            started = time.perf_counter()
            if started > deadline:
                return
            await work()
            samples.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(loop(w) for w in workers))
    return samples, time.perf_counter() - began


async def _measure(
    label: str, workers: Sequence[Callable[[], Awaitable[None]]], limits: Limits
) -> Run:
    await _drive(workers, 4 * len(workers), limits.seconds / 5)  # warm connections, caches
    samples, seconds = await _drive(workers, limits.requests, limits.seconds)
    return Run(label, samples, seconds)


def _page_worker(client: httpx.AsyncClient, path: str) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        (await client.get(path)).raise_for_status()

    return work


def _api_worker(
    clients: dict[str, httpx.AsyncClient], waves: list[list[Call]]
) -> Callable[[], Awaitable[None]]:
    async def one(call: Call) -> None:
        url = call.path + (f"?{call.query}" if call.query else "")
        (await clients[call.service].get(url)).raise_for_status()

    async def work() -> None:
        for wave in waves:
            await asyncio.gather(*(one(c) for c in wave))

    return work


@dataclass
class Row:
    page: str
    calls: int
    api: Run
    console: Run
    own_ms: float  # the console's own work per page, upstream replayed (_own_cost)


async def _run_all(
    data_dir: Path, seeded: api_reads_seed.Seeded, limits: Limits, sessions: int
) -> list[Row]:
    with ExitStack() as stack:
        urls = {name: stack.enter_context(api_reads._server(name, data_dir)) for name in SERVICES}
        console = stack.enter_context(_console_server(data_dir, urls))
        async with httpx.AsyncClient(timeout=10) as probe:
            for base in (*urls.values(), console):
                await ready(probe, base, seconds=180, poll=0.2)  # five processes start at once
        pages = await _pages(urls, seeded)
        shapes, answers = await _discover(data_dir, urls, pages)
        own = await _own_cost(data_dir, urls, pages, answers)
        token = issue_token(SECRET, Role.COMMISSIONER, subject=SUBJECT)
        pool = httpx.Limits(max_connections=sessions, max_keepalive_connections=sessions)
        api_clients = {
            name: httpx.AsyncClient(
                base_url=url,
                headers={"Authorization": f"Bearer {token}"},
                limits=pool,
                timeout=120,
            )
            for name, url in urls.items()
        }
        browsers = [httpx.AsyncClient(base_url=console, timeout=120) for _ in range(sessions)]
        try:
            for browser in browsers:  # one signed-in session each, like 8 officers
                await _sign_in(browser)
            rows = []
            for path in pages:
                api_work = [_api_worker(api_clients, shapes[path]) for _ in range(sessions)]
                page_work = [_page_worker(b, path) for b in browsers]
                api = await _measure("API calls alone", api_work, limits)
                page = await _measure("console page", page_work, limits)
                calls = sum(len(w) for w in shapes[path])
                rows.append(Row(_label(path), calls, api, page, own[path]))
                print(f"  measured {path}", flush=True)
        finally:
            for client in (*api_clients.values(), *browsers):
                await client.aclose()
    return rows


async def _pages(urls: dict[str, str], seeded: api_reads_seed.Seeded) -> list[str]:
    """The five pages a commissioner and an officer open most: the day's work, the
    inbox, an alert, the register and a provider (an alerted one)."""
    token = issue_token(SECRET, Role.COMMISSIONER, subject=SUBJECT)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        alerts = (
            await client.get(f"{urls['monitoring']}/alerts", params={"status": "open"})
        ).json()
    alert = alerts[0]
    return [
        "/",
        "/alerts",
        f"/alerts/{alert['alert_id']}",
        "/providers",
        f"/providers/{alert['provider_id']}",
    ]


def _label(path: str) -> str:
    parts = path.strip("/").split("/")
    return "/" + parts[0] + ("/{id}" if len(parts) > 1 else "") if parts[0] else "/ (home)"


def _print_table(rows: Sequence[Row], limits: Limits, sessions: int) -> None:
    header = (
        f"{'page':<18}{'calls':>6}{'what':>18}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'req/s':>8}{'+p50 ms':>9}{'p50 x':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        for run in (row.api, row.console):
            p50, p99 = run.percentile(50), run.percentile(99)
            added = p50 - row.api.percentile(50)
            ratio = p50 / row.api.percentile(50)
            cut = "*" if len(run.samples) < limits.requests else " "
            print(
                f"{row.page:<18}{row.calls:>6}{run.label:>18}{len(run.samples):>8}{cut}"
                f"{p50:>9.1f}{p99:>9.1f}{run.rate:>8.1f}{added:>9.1f}{ratio:>7.2f}"
            )
    print(
        f"{sessions} sessions at once; +p50 ms / p50 x: the console page's p50 minus / over "
        "that of the same API calls alone just before it (same servers, same run)"
    )
    print("\nthe console's own work per page (one at a time, upstream replayed from memory):")
    for row in rows:
        print(f"  {row.page:<18}{row.own_ms:>7.1f} ms (median of {OWN_COST_RENDERS})")
    if any(len(r.console.samples) < limits.requests for r in rows):
        print(f"* stopped starting requests after {limits.seconds:g}s (--seconds)")


async def main(limits: Limits, sessions: int, placement_count: int) -> None:
    configure_logging("bench", "WARNING", as_json=False)
    today = datetime.now(UTC).date()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        started = time.perf_counter()
        print("seeding...", flush=True)
        seeded = await api_reads_seed.seed(data_dir, placement_count, today)
        procurement = api_reads_seed.runtime_for("procurement", data_dir)
        await asyncio.to_thread(procurement.migrate)
        await procurement.db.dispose()
        print(f"seeded in {time.perf_counter() - started:.0f}s")
        for note in seeded.notes:
            print(f"  {note}")
        rows = await _run_all(data_dir, seeded, limits, sessions)
    print(
        f"\nup to {limits.requests} requests per row; one uvicorn process per service and "
        "one for the console; clients in this process"
    )
    _print_table(rows, limits, sessions)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="per row")
    parser.add_argument("--seconds", type=float, default=15, help="cap on each row's time")
    parser.add_argument("--placements", type=int, default=2000)
    parser.add_argument("--serve-console", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", action="append", default=[], help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    args = _arguments()
    if args.serve_console:
        _serve_console(args.data_dir, dict(u.split("=", 1) for u in args.url), args.fd)
    else:
        limits = Limits(args.requests, args.sessions, args.seconds)
        asyncio.run(main(limits, args.sessions, args.placements))
